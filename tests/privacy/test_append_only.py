"""Consent events and audit entries are evidence: neither the ORM, nor raw SQL, nor the admin
changes or deletes them. The raw SQL refusals come from the database triggers, on SQLite and on
PostgreSQL."""

import pytest
from django.contrib.admin.sites import site
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from privacy.models import AuditEntry, ConsentEvent
from privacy.services import audit_record, consent_withdraw
from tests.health_profiles.scenario import grant_storage

pytestmark = pytest.mark.django_db

TABLES = {"privacy_consentevent": ConsentEvent, "privacy_auditentry": AuditEntry}


@pytest.fixture
def evidence(patient_ayse):
    grant = grant_storage(patient_ayse)
    # The withdrawal: no row points at it, so only the append-only rule can stop a delete.
    withdrawal = consent_withdraw(subject=patient_ayse, grant_id=grant.id)
    audit_record(actor=patient_ayse, action="test_entry", patient=patient_ayse)
    return {
        "privacy_consentevent": withdrawal,
        "privacy_auditentry": AuditEntry.objects.filter(action="test_entry").get(),
    }


def raw(sql: str, params) -> None:
    # A savepoint, so that a refused statement does not abort the test's transaction on PostgreSQL.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def pk_param(obj):
    return obj.pk.hex if connection.vendor == "sqlite" else obj.pk


@pytest.mark.parametrize("table", list(TABLES))
def test_the_model_refuses_save_and_delete_of_an_existing_row(evidence, table):
    row = evidence[table]

    with pytest.raises(ValueError, match="append-only"):
        row.save()
    with pytest.raises(ValueError, match="append-only"):
        row.delete()


@pytest.mark.parametrize("table", list(TABLES))
def test_queryset_update_and_delete_are_refused_by_the_database(evidence, table):
    model = TABLES[table]
    count = model.objects.count()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        model.objects.filter(pk=evidence[table].pk).update(ip_address="10.0.0.1")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        model.objects.filter(pk=evidence[table].pk).delete()

    assert model.objects.count() == count


@pytest.mark.parametrize("table", list(TABLES))
def test_raw_sql_update_and_delete_are_refused_by_the_trigger(evidence, table):
    model = TABLES[table]
    row = evidence[table]

    with pytest.raises(DatabaseError, match="append-only"):
        raw(f"UPDATE {table} SET ip_address = %s WHERE id = %s", ["10.0.0.1", pk_param(row)])  # noqa: S608
    with pytest.raises(DatabaseError, match="append-only"):
        raw(f"DELETE FROM {table} WHERE id = %s", [pk_param(row)])  # noqa: S608
    with pytest.raises(DatabaseError, match="append-only"):
        raw(f"DELETE FROM {table} WHERE 1 = %s", [1])  # noqa: S608

    assert model.objects.filter(pk=row.pk, ip_address__isnull=True).exists()


@pytest.mark.parametrize("table", list(TABLES))
def test_the_admin_offers_no_add_change_or_delete(evidence, table, platform_admin):
    model_admin = site._registry[TABLES[table]]
    request = RequestFactory().get("/admin/")
    request.user = platform_admin

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, evidence[table])
    assert not model_admin.has_delete_permission(request, evidence[table])


@pytest.mark.postgres
def test_the_postgresql_triggers_are_installed_on_both_tables():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal "
            "AND tgrelid::regclass::text IN ('privacy_consentevent', 'privacy_auditentry')"
        )
        triggers = set(cursor.fetchall())

    assert triggers == {
        ("privacy_consentevent", "privacy_consentevent_append_only"),
        ("privacy_auditentry", "privacy_auditentry_append_only"),
        # deletes pass only under the destruction run's permit (migration 0009)
        ("privacy_consentevent", "privacy_consentevent_delete_permit"),
        ("privacy_auditentry", "privacy_auditentry_delete_permit"),
    }


@pytest.mark.postgres
def test_on_postgresql_an_update_of_every_row_is_refused_as_one_statement(evidence):
    with pytest.raises(DatabaseError, match="append-only"):
        raw("UPDATE privacy_auditentry SET action = %s", ["rewritten"])
    assert not AuditEntry.objects.filter(action="rewritten").exists()
