"""Querysets compiled to SQL once per database connection, then run again with new values.

Building and compiling a queryset with annotations and subqueries costs milliseconds of Python on
every request: the share check of a doctor's read spent about 2 ms there, more than PostgreSQL
spent running it. A `PreparedQuery` builds its queryset once per connection with marker values in
the places of its parameters, compiles it, and remembers where the markers landed among the SQL
parameters; each run sends that SQL with the run's values in those places and converts the rows
with the queryset's own converters. The queryset stays the one definition of what is read: the SQL
is derived from it, never written by hand.

On PostgreSQL the SQL is also a server-side prepared statement of the connection (psycopg's own,
made at the first run): PostgreSQL then plans it once instead of on every run. Planning the share
check (five tables, two subqueries) cost 0.6 ms of the database's time per read, four times its
execution. Only these queries are prepared: every other statement of the ORM stays client-side
bound, as Django sends it. A transaction pooler in front of PostgreSQL (PgBouncer in transaction
mode) would need its prepared-statement support switched on.

Parameters are UUIDs, aware datetimes and strings; a parameter may appear in the SQL more than once
(each place gets the value) but must appear. What else the queryset compiles to a parameter (a
setting's value, a constant) is fixed at the first run on a connection; a settings change (tests
override settings) compiles afresh. A date or time compiled in that is not a parameter is refused:
a `timezone.now()` inside the queryset would otherwise stop the clock at the first run (a share
that ended would stay in force).

`rows()` runs a `.values(...)` queryset and gives dicts, `tuples()` a `.values_list(...)` one (a
UNION of them too) and gives tuples; `objects()` runs a model queryset
(`select_related`, annotations and `select_for_update` included) and gives its model instances as
the ORM would. A `PreparedUpdate`'s `build` returns a queryset and the changes its `.update(...)`
would make; `update()` makes them and gives the number of rows changed, as `.update()` does.
What varies between runs must be a parameter, never a branch inside `build` on anything else.
An `optional` parameter may be None, which `build` gets as None (a filter left out): each set of
parameters left out is compiled as a query of its own.
"""

import datetime
import functools
import uuid
import weakref
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, ValuesIterable, ValuesListIterable, get_related_populators
from django.db.models.sql.subqueries import UpdateQuery
from django.db.transaction import TransactionManagementError
from django.test.signals import setting_changed

_KINDS = (uuid.UUID, datetime.datetime, str)
_RUN_BY = {"model": "objects", "values": "rows", "values_list": "tuples", "update": "update"}  # each shape's method


@dataclass(frozen=True)
class _Compiled:
    shape: str  # what build() returned: "model", "values", "values_list" or "update"
    sql: str
    params: tuple
    slots: dict[str, tuple[int, ...]]  # parameter name -> its places among params
    names: tuple[str, ...]  # the columns of a row, as the values() queryset names them
    compiler: Any  # for its converters (bound to this compilation's connection)
    converters: dict
    instances: Callable[[list], list] | None  # rows -> model instances, for a model queryset


class PreparedQuery:
    """`build(**values)` returns a queryset of `model`: `rows(**values)` runs a `.values(...)` one,
    `tuples(**values)` a `.values_list(...)` one, `objects(**values)` a model one. `write`: the
    queryset locks rows (`select_for_update`), so it runs on the database for writes. `optional`:
    names of parameters that may be None."""

    def __init__(
        self,
        model: type[Model],
        build: Callable[..., QuerySet],
        *,
        write: bool = False,
        optional: tuple[str, ...] = (),
        **kinds: type,
    ):
        for name, kind in kinds.items():
            # A subclass stands for its kind: freezegun's FakeDatetime is `datetime.datetime` while a
            # test's clock is frozen, and a prepared query may be made then.
            base = next((known for known in _KINDS if isinstance(kind, type) and issubclass(kind, known)), None)
            if base is None:
                raise TypeError(f"parameter {name}: only UUID, datetime and str parameters are supported")
            kinds[name] = base
        if not set(optional) <= set(kinds):
            raise TypeError(f"optional parameters {sorted(set(optional) - set(kinds))} are not parameters")
        self.model = model
        self.build = build
        self.write = write
        self.optional = tuple(optional)
        self.kinds = kinds
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        _every.add(self)

    def rows(self, **values) -> list[dict[str, Any]]:
        """The rows for these values, each a dict as the queryset's `.values()` gives."""
        compiled, rows = self._run(values, "values")
        return [dict(zip(compiled.names, row, strict=True)) for row in rows]

    def tuples(self, **values) -> list[tuple]:
        """The rows for these values, each a tuple as the queryset's `.values_list(...)` gives."""
        compiled, rows = self._run(values, "values_list")
        return [tuple(row) for row in rows]

    def objects(self, **values) -> list[Model]:
        """The model instances for these values, as iterating the queryset gives them."""
        compiled, rows = self._run(values, "model")
        return compiled.instances(rows)

    def _run(self, values: dict, shape: str) -> tuple[_Compiled, list | int]:
        if set(values) != set(self.kinds):
            raise TypeError(f"expected the parameters {sorted(self.kinds)}, got {sorted(values)}")
        absent = frozenset(name for name in self.optional if values[name] is None)
        for name, value in values.items():
            if name not in absent and not isinstance(value, self.kinds[name]):
                raise TypeError(f"parameter {name}: expected {self.kinds[name].__name__}, got {type(value).__name__}")
        alias = router.db_for_write(self.model) if self.write else router.db_for_read(self.model)
        connection = connections[alias]
        if self.write and shape != "update" and connection.get_autocommit():
            # As the ORM refuses it: outside a transaction, the lock would end with the statement.
            raise TransactionManagementError("a locking prepared query must run inside a transaction")
        compiled = self._compiled.setdefault(connection, {}).get(absent)
        if compiled is None:
            compiled = self._compiled[connection][absent] = self._compile(connection, alias, absent)
        if compiled.shape != shape:
            raise TypeError(f"a {compiled.shape} queryset: {_RUN_BY[compiled.shape]}() runs it, not {_RUN_BY[shape]}()")
        params = list(compiled.params)
        for name, places in compiled.slots.items():
            value = _prepared(values[name], connection)
            for index in places:
                params[index] = value
        with _cursor(connection) as cursor:
            cursor.execute(compiled.sql, params)
            if shape == "update":
                return compiled, cursor.rowcount
            rows = cursor.fetchall()
        if compiled.converters:
            rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
        return compiled, rows

    def _statement(self, connection, markers: dict) -> tuple[QuerySet, Any]:
        """The queryset build() returns for these markers, and its compiler."""
        queryset = self.build(**markers)
        if queryset._for_write != self.write:
            raise ValueError("a queryset that locks rows (select_for_update) needs write=True, and only it")
        return queryset, queryset.query.get_compiler(connection=connection)

    def _compile(self, connection, alias: str, absent: frozenset) -> _Compiled:
        markers = {name: _marker(kind) for name, kind in self.kinds.items() if name not in absent}
        queryset, compiler = self._statement(connection, {**markers, **dict.fromkeys(absent)})
        if queryset._prefetch_related_lookups or queryset._known_related_objects:
            raise ValueError("prefetch_related and related-manager querysets are not supported")
        query = compiler.query
        sql, params = compiler.as_sql()
        slots = {}
        for name, marker in markers.items():
            found = tuple(index for index, param in enumerate(params) if param == _prepared(marker, connection))
            if not found:
                raise ValueError(f"parameter {name} does not appear in the compiled query")
            slots[name] = found
        taken = {index for places in slots.values() for index in places}
        fixed = [param for index, param in enumerate(params) if index not in taken and _is_instant(param)]
        if fixed:
            raise ValueError(f"the compiled query holds a date or time that is not a parameter: {fixed!r}")
        updating = isinstance(query, UpdateQuery)
        columns = [] if updating else [expression for expression, _sql, _alias in compiler.select[: compiler.col_count]]
        names, instances = (), None
        if updating:
            shape = "update"
        elif issubclass(queryset._iterable_class, ModelIterable):
            shape, instances = "model", _instances(compiler, alias)
        elif issubclass(queryset._iterable_class, ValuesIterable):
            # As ValuesIterable names a row's columns.
            shape = "values"
            names = tuple(query.selected or (*query.extra_select, *query.values_select, *query.annotation_select))
            if len(columns) != len(names):
                raise ValueError("a .values(...) queryset must name each of its columns")
        elif queryset._iterable_class is ValuesListIterable:
            shape = "values_list"
        else:
            raise ValueError("build() must return a model queryset, a .values(...) or a .values_list(...) one")
        return _Compiled(
            shape=shape,
            sql=sql,
            params=tuple(params),
            slots=slots,
            names=names,
            compiler=compiler,
            converters=compiler.get_converters(columns),
            instances=instances,
        )

    def forget(self) -> None:
        self._compiled.clear()


class PreparedUpdate(PreparedQuery):
    """`build(**values)` returns `(queryset, changes)`: `update(**values)` runs
    `queryset.update(**changes)` and gives the number of rows changed. The queryset must not join
    (one table's rows, chosen by its own columns)."""

    def __init__(self, model: type[Model], build: Callable[..., tuple[QuerySet, dict]], **options):
        super().__init__(model, build, write=True, **options)

    def update(self, **values) -> int:
        try:
            return self._run(values, "update")[1]
        except DatabaseError:
            # As QuerySet.update: a failed statement inside an atomic block marks it for rollback.
            connection = connections[router.db_for_write(self.model)]
            if connection.in_atomic_block:
                connection.needs_rollback = True
            raise

    def _statement(self, connection, markers: dict) -> tuple[QuerySet, Any]:
        queryset, changes = self.build(**markers)
        if queryset.query.is_sliced or len(queryset.query.alias_map) > 1:
            raise ValueError("a prepared update chooses its rows by its own table's columns: no slice, no join")
        # As QuerySet.update builds its statement.
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(changes)
        query.annotations = {}
        if query.related_updates:
            raise ValueError("a prepared update changes one table")
        compiler = query.get_compiler(connection=connection)
        compiler.pre_sql_setup()
        return queryset, compiler


def _instances(compiler, alias: str) -> Callable[[list], list]:
    """Model instances from converted rows, as django.db.models.query.ModelIterable builds them."""
    klass_info, select, annotation_col_map = compiler.klass_info, compiler.select, compiler.annotation_col_map
    model = klass_info["model"]
    first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    init_list = [column[0].target.attname for column in select[first:last]]
    related_populators = get_related_populators(klass_info, select, alias)

    def build(rows: list) -> list:
        built = []
        for row in rows:
            instance = model.from_db(alias, init_list, row[first:last])
            for populator in related_populators:
                populator.populate(row, instance)
            for name, position in (annotation_col_map or {}).items():
                setattr(instance, name, row[position])
            built.append(instance)
        return built

    return build


# psycopg prepares a statement when asked (`prepare=True`) or after this many runs of the same text;
# Django's own cursors bind client-side and are never prepared, so only our cursor asks.
_ONLY_WHEN_ASKED = 2**31


def _cursor(connection):
    """A cursor of `connection` (through Django's wrapper: logged and counted like any query) that
    prepares what it runs on PostgreSQL; the ordinary cursor elsewhere."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, register_tzloader
    from psycopg.pq import Format

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:  # Django's default: nothing prepared at all
        raw.prepare_threshold = _ONLY_WHEN_ASKED
    with connection.wrap_database_errors:
        cursor = _preparing_cursor_class()(raw)
        # As Django's create_cursor: the session's time zone when the connection's loader differs.
        if connection.timezone != raw.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone:
            register_tzloader(connection.timezone, cursor)
        connection.validate_thread_sharing()
        if connection.queries_logged:  # as Django's own cursor: debug logging, tests counting queries
            return _debug_wrapper_class()(cursor, connection)
        return connection.make_cursor(cursor)


@functools.cache
def _preparing_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """Django's server-side binding cursor, asking psycopg to prepare every statement it runs."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor


@functools.cache
def _debug_wrapper_class() -> type:
    from django.db.backends.postgresql.base import CursorDebugWrapper

    class PreparedDebugWrapper(CursorDebugWrapper):
        """Logs the statement with its values in place, as the client-side bound ones are logged
        (Django reads that text back from a client-side cursor, which this is not)."""

        @contextmanager
        def debug_sql(self, sql=None, params=None, use_last_executed_query=False, many=False):
            if use_last_executed_query and sql is not None and not many:
                sql = self.db.ops.compose_sql(sql, params)
            with super().debug_sql(sql, params, use_last_executed_query=False, many=many):
                yield

    return PreparedDebugWrapper


def _marker(kind: type) -> Any:
    if kind is uuid.UUID:
        return uuid.uuid4()
    if kind is str:
        return f"\ue000prepared-query-marker-{uuid.uuid4().hex}"  # a private-use character: no real value
    # A random instant of 1901: no real parameter of ours is one.
    return datetime.datetime(1901, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
        microseconds=uuid.uuid4().int % (364 * 86_400_000_000)
    )


def _is_instant(param: Any) -> bool:
    """A date or time as the ORM hands it to the driver (PostgreSQL: the object; SQLite: ISO text)."""
    if isinstance(param, datetime.date | datetime.time):
        return True
    if isinstance(param, str) and len(param) >= 10:
        try:
            datetime.datetime.fromisoformat(param)
        except ValueError:
            return False
        return True
    return False


def _prepared(value: Any, connection) -> Any:
    """The value as the ORM hands it to the database driver (UUIDField, DateTimeField, CharField)."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError("a datetime parameter must be aware")
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, uuid.UUID):
        return value if connection.features.has_native_uuid_field else value.hex
    if isinstance(value, str):
        return str.__str__(value)  # a TextChoices member is its value, never its name
    raise TypeError(f"unsupported parameter type {type(value).__name__}")


_every: weakref.WeakSet[PreparedQuery] = weakref.WeakSet()


def _forget_all(**kwargs) -> None:
    for prepared in list(_every):
        prepared.forget()


setting_changed.connect(_forget_all, dispatch_uid="medplatform.prepared_queries")
