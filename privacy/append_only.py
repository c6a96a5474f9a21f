"""The database triggers that refuse UPDATE and DELETE on append-only tables (PostgreSQL and
SQLite). Used by the privacy migrations that install them; keep the SQL here, in one place."""

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION privacy_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def create_append_only_triggers(schema_editor, tables: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTION, params=None)
        for table in tables:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION privacy_refuse_change()"
            )
    elif vendor == "sqlite":
        for table in tables:
            for operation in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END"
                )


def drop_append_only_triggers(schema_editor, tables: list[str], *, drop_function: bool = False) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        if drop_function:
            schema_editor.execute("DROP FUNCTION IF EXISTS privacy_refuse_change()")
    elif vendor == "sqlite":
        for table in tables:
            for operation in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


# Retention: consent events and audit entries are deleted once their period has passed, and only
# by the destruction run, which holds a privacy_destructionpermit row for the table inside its own
# transaction while it deletes (privacy.retention.permitted_deletion). UPDATE stays refused.
POSTGRES_PERMIT_FUNCTION = """
CREATE OR REPLACE FUNCTION privacy_refuse_unpermitted_delete() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM privacy_destructionpermit WHERE "table" = TG_TABLE_NAME) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def allow_permitted_deletes(schema_editor, tables: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_PERMIT_FUNCTION, params=None)
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION privacy_refuse_change()"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_delete_permit BEFORE DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION privacy_refuse_unpermitted_delete()"
            )
    elif vendor == "sqlite":
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            schema_editor.execute(
                # Table names are the migration's constants, never input.
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "  # noqa: S608
                f"WHEN NOT EXISTS (SELECT 1 FROM privacy_destructionpermit WHERE \"table\" = '{table}') "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END"
            )


def refuse_all_deletes(schema_editor, tables: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_delete_permit ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION privacy_refuse_change()"
            )
        schema_editor.execute("DROP FUNCTION IF EXISTS privacy_refuse_unpermitted_delete()")
    elif vendor == "sqlite":
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END"
            )
