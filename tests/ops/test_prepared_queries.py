"""medplatform.prepared_queries: a query compiled once per connection must answer exactly as the
queryset it is compiled from, whatever the values of a run, and refuse what it cannot keep exact."""

import datetime
import uuid

import pytest
from django.db import connection, transaction
from django.db.models import Case, Count, F, Q, TextChoices, TextField, Value, When
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from accounts.models import Doctor, User
from medplatform.prepared_queries import PreparedQuery, PreparedUpdate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def doctors_by(*, user_id, email):
    """Select-related user, an annotation, a str parameter used twice."""
    return (
        Doctor.objects.select_related("user")
        .annotate(clinic_count=Count("clinics"))
        .filter(Q(user_id=user_id) | Q(user__email=email) | Q(user__first_name=email))
        .order_by("id")
    )


BY = PreparedQuery(Doctor, doctors_by, user_id=uuid.UUID, email=str)


def test_objects_are_the_instances_the_orm_builds_for_any_values(doctor_x, doctor_y):
    for user_id, email in [
        (doctor_x.user.pk, doctor_y.user.email),
        (doctor_y.user.pk, "nobody@example.test"),
        (uuid.uuid4(), doctor_x.user.email),
        (uuid.uuid4(), "nobody@example.test"),
    ]:
        expected = list(doctors_by(user_id=user_id, email=email))
        with CaptureQueriesContext(connection) as captured:
            found = BY.objects(user_id=user_id, email=email)
            # The related user is loaded with the doctor, as select_related does: no query of its own.
            shown = [(d.pk, d.user.pk, d.user.email, d.user.full_name, d.clinic_count, d.title) for d in found]
        assert len(captured.captured_queries) == 1
        assert shown == [(d.pk, d.user.pk, d.user.email, d.user.full_name, d.clinic_count, d.title) for d in expected]
        assert all(not d._state.adding and d._state.db == "default" for d in found)


def test_a_statement_is_logged_with_its_values_in_place(doctor_x):
    with CaptureQueriesContext(connection) as captured:
        BY.objects(user_id=doctor_x.user.pk, email="o'brien@example.test")
    (logged,) = [query["sql"] for query in captured.captured_queries]
    assert "o''brien@example.test" in logged
    assert str(doctor_x.user.pk) in logged or doctor_x.user.pk.hex in logged


def test_rows_and_objects_each_run_their_kind_of_queryset(doctor_x):
    with pytest.raises(TypeError, match="objects"):
        BY.rows(user_id=doctor_x.user.pk, email="")
    values = PreparedQuery(
        Doctor, lambda user_id: Doctor.objects.filter(user_id=user_id).values("id"), user_id=uuid.UUID
    )
    assert values.rows(user_id=doctor_x.user.pk) == [{"id": doctor_x.pk}]
    with pytest.raises(TypeError, match="rows"):
        values.objects(user_id=doctor_x.user.pk)


def test_a_locking_queryset_must_say_it_writes_and_the_others_must_not(doctor_x):
    def locking(user_id):
        return Doctor.objects.select_for_update().filter(user_id=user_id)

    with pytest.raises(ValueError, match="write=True"):
        PreparedQuery(Doctor, locking, user_id=uuid.UUID).objects(user_id=doctor_x.user.pk)
    with pytest.raises(ValueError, match="write=True"):
        PreparedQuery(Doctor, doctors_by, write=True, user_id=uuid.UUID, email=str).objects(
            user_id=doctor_x.user.pk, email=""
        )
    assert [
        d.pk for d in PreparedQuery(Doctor, locking, write=True, user_id=uuid.UUID).objects(user_id=doctor_x.user.pk)
    ] == [doctor_x.pk]


# serialized_rollback: restore the migrations' rows (content types, consent texts) for the tests after.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_locking_query_refuses_to_run_outside_a_transaction():
    user = UserFactory()
    locking = PreparedQuery(
        User, lambda user_id: User.objects.select_for_update().filter(pk=user_id), write=True, user_id=uuid.UUID
    )
    with transaction.atomic():
        assert [found.pk for found in locking.objects(user_id=user.pk)] == [user.pk]
    # Compiled already: the check is the prepared query's own, not the ORM's at compile time.
    with pytest.raises(TransactionManagementError):
        locking.objects(user_id=user.pk)


def test_a_value_of_another_kind_is_refused(doctor_x):
    with pytest.raises(TypeError, match="expected str"):
        BY.objects(user_id=doctor_x.user.pk, email=None)
    with pytest.raises(TypeError, match="expected UUID"):
        BY.objects(user_id=str(doctor_x.user.pk), email="")
    with pytest.raises(TypeError, match="supported"):
        PreparedQuery(Doctor, doctors_by, user_id=uuid.UUID, email=datetime.date)


def test_a_query_made_while_a_tests_clock_is_frozen_takes_real_and_frozen_datetimes(doctor_x):
    from datetime import datetime as real_datetime

    from freezegun import freeze_time

    def joined_since(since):
        return Doctor.objects.filter(created_at__gte=since).values("id")

    with freeze_time("2030-01-01"):
        import datetime as datetime_module

        since = PreparedQuery(Doctor, joined_since, since=datetime_module.datetime)  # FakeDatetime here
        assert since.rows(since=datetime_module.datetime(2000, 1, 1, tzinfo=datetime.UTC)) == [{"id": doctor_x.pk}]
    assert since.rows(since=real_datetime(2000, 1, 1, tzinfo=datetime.UTC)) == [{"id": doctor_x.pk}]
    assert since.rows(since=real_datetime(2999, 1, 1, tzinfo=datetime.UTC)) == []


def test_an_optional_parameter_left_out_is_its_own_query_without_that_filter(doctor_x, doctor_y):
    def doctors(*, user_id):
        rows = Doctor.objects.order_by("id").values("id")
        return rows if user_id is None else rows.filter(user_id=user_id)

    by_user = PreparedQuery(Doctor, doctors, optional=("user_id",), user_id=uuid.UUID)
    everyone = sorted([{"id": doctor_x.pk}, {"id": doctor_y.pk}], key=lambda row: row["id"])
    for _ in range(2):  # each shape compiled once, then run again
        assert by_user.rows(user_id=None) == everyone
        assert by_user.rows(user_id=doctor_y.user.pk) == [{"id": doctor_y.pk}]
    with pytest.raises(TypeError, match="expected UUID"):
        PreparedQuery(Doctor, doctors, user_id=uuid.UUID).rows(user_id=None)  # not optional: None refused
    with pytest.raises(TypeError, match="not parameters"):
        PreparedQuery(Doctor, doctors, optional=("nobody",), user_id=uuid.UUID)


def retitle(*, doctor_id, title, bio):
    """An update with a value, an F() expression, a Case on the row's own column and an optional change."""
    changes = {
        "title": title,
        "rating_count": F("rating_count") + 1,
        "education": Case(
            When(title="", then=Value("untitled before")), default=F("education"), output_field=TextField()
        ),
    }
    if bio is not None:
        changes["bio"] = bio
    return Doctor.objects.filter(pk=doctor_id, is_active=True), changes


RETITLE = PreparedUpdate(Doctor, retitle, optional=("bio",), doctor_id=uuid.UUID, title=str, bio=str)


def test_an_update_changes_what_the_orms_update_changes_and_counts_the_rows(doctor_x, doctor_y):
    Doctor.objects.filter(pk__in=[doctor_x.pk, doctor_y.pk]).update(title="", education="ed", bio="b")
    shown = ("title", "rating_count", "education", "bio")
    for title, bio in [("Dr.", None), ("Prof. Dr.", "new bio"), ("", None)]:
        queryset, changes = retitle(doctor_id=doctor_y.pk, title=title, bio=bio)
        expected = queryset.update(**changes)
        assert RETITLE.update(doctor_id=doctor_x.pk, title=title, bio=bio) == expected == 1
        assert Doctor.objects.values(*shown).get(pk=doctor_x.pk) == Doctor.objects.values(*shown).get(pk=doctor_y.pk)
    assert Doctor.objects.get(pk=doctor_x.pk).bio == "new bio"  # left out afterwards: left as it was
    assert RETITLE.update(doctor_id=uuid.uuid4(), title="Dr.", bio=None) == 0
    Doctor.objects.filter(pk=doctor_x.pk).update(is_active=False)
    assert RETITLE.update(doctor_id=doctor_x.pk, title="Doç. Dr.", bio=None) == 0
    assert Doctor.objects.get(pk=doctor_x.pk).title == ""


def test_an_update_writes_a_choices_member_as_its_value(doctor_x):
    class Title(TextChoices):
        DOCTOR = "Uzm. Dr.", "Specialist"

    RETITLE.update(doctor_id=doctor_x.pk, title=Title.DOCTOR, bio=None)
    assert Doctor.objects.get(pk=doctor_x.pk).title == "Uzm. Dr."


def test_an_update_that_joins_or_is_sliced_is_refused(doctor_x):
    joined = PreparedUpdate(
        Doctor, lambda *, email: (Doctor.objects.filter(user__email=email), {"title": "x"}), email=str
    )
    with pytest.raises(ValueError, match="no join"):
        joined.update(email=doctor_x.user.email)
    assert Doctor.objects.get(pk=doctor_x.pk).title != "x"
