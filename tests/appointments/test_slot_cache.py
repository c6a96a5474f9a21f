"""The slot cache (appointments/slot_cache.py) answers what the database would, at every moment.

Each test switches it on (SLOT_CACHE_SECONDS) over the test run's cache (locmem in the embedded
run, the private Redis in the real-services run), fills it with a first read, changes something
through the services or the clock, and reads again: the answer must be the one computed afresh."""

from datetime import timedelta

import pytest
from freezegun import freeze_time

from accounts.models import Clinic, Doctor
from appointments import slot_cache
from appointments.models import TimeOff
from appointments.services import appointment_cancel, time_off_create
from tests.appointments.conftest import at, book

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.SLOT_CACHE_SECONDS = 600


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Inside the test's transaction a write's transaction is a savepoint: its on-commit work (the
    versions replaced) runs at the end of this block, as it would at its commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def starts(api, doctor, first, last=None):
    response = api.get(f"/api/v1/doctors/{doctor.id}/slots/?from={first}&to={last or first}")
    assert response.status_code == 200, response.content
    return [slot["start"] for slot in response.json()]


def fresh(api, doctor, first, last=None, settings=None):
    """The same read with the cache off: what the database says now."""
    settings.SLOT_CACHE_SECONDS = 0
    try:
        return starts(api, doctor, first, last)
    finally:
        settings.SLOT_CACHE_SECONDS = 600


def test_a_hit_costs_no_query_and_answers_the_same(api, schedule_x, day, django_assert_num_queries, settings):
    first = starts(api, schedule_x, day, day + timedelta(days=13))

    with django_assert_num_queries(0):
        again = starts(api, schedule_x, day, day + timedelta(days=13))

    assert again == first == fresh(api, schedule_x, day, day + timedelta(days=13), settings)
    assert at(day, 9).isoformat() in first


def test_a_booked_slot_never_shows_free_to_the_booker_or_anyone(
    api, as_user, ayse, schedule_x, day, settings, committed
):
    assert at(day, 10).isoformat() in starts(api, schedule_x, day)  # cached, free

    with committed():
        response = as_user(ayse).post(
            "/api/v1/appointments/",
            {"doctor": str(schedule_x.id), "start": at(day, 10).isoformat(), "visit_reason": "kontrol"},
            format="json",
        )
    assert response.status_code == 201, response.content

    assert at(day, 10).isoformat() not in starts(as_user(ayse), schedule_x, day)
    assert at(day, 10).isoformat() not in starts(api, schedule_x, day)
    assert starts(api, schedule_x, day) == fresh(api, schedule_x, day, settings=settings)


def test_cancel_and_time_off_show_at_once(api, ayse, schedule_x, day, settings, committed):
    assert at(day, 10).isoformat() in starts(api, schedule_x, day)
    with committed():
        appointment = book(ayse, schedule_x, at(day, 10))
    assert at(day, 10).isoformat() not in starts(api, schedule_x, day)

    with committed():
        appointment_cancel(appointment=appointment, actor=ayse)
    assert at(day, 10).isoformat() in starts(api, schedule_x, day)

    with committed():
        time_off_create(doctor=schedule_x, start=at(day, 9), end=at(day, 12), actor=schedule_x.user)
    assert starts(api, schedule_x, day)[0] == at(day, 12).isoformat()
    assert starts(api, schedule_x, day) == fresh(api, schedule_x, day, settings=settings)


def test_working_hours_changes_show_at_once(api, as_user, schedule_x, day, committed):
    assert starts(api, schedule_x, day)
    doctor_client = as_user(schedule_x.user)
    hours = doctor_client.get(f"/api/v1/doctors/{schedule_x.id}/working-hours/").json()["results"]
    for row in hours:
        if row["weekday"] == day.weekday():
            with committed():
                response = doctor_client.delete(f"/api/v1/doctors/{schedule_x.id}/working-hours/{row['id']}/")
            assert response.status_code == 204, response.content

    assert starts(api, schedule_x, day) == []


def test_the_clock_is_applied_on_every_hit(api, schedule_x, day):
    """Cached without the clock: minimum notice (2 hours) and horizon move with `now`."""
    nine = at(day, 9)
    with freeze_time(nine - timedelta(hours=3)):
        assert starts(api, schedule_x, day)[0] == nine.isoformat()
    with freeze_time(nine - timedelta(hours=2)):
        assert starts(api, schedule_x, day)[0] == nine.isoformat()  # exactly the notice: still bookable
    with freeze_time(nine - timedelta(hours=2) + timedelta(microseconds=1)):
        assert starts(api, schedule_x, day)[0] == at(day, 9, 30).isoformat()
    horizon = schedule_x.clinics.get().horizon_days
    with freeze_time(nine - timedelta(days=horizon, microseconds=1)):
        assert starts(api, schedule_x, day) == []  # not yet inside the horizon
    with freeze_time(nine - timedelta(days=horizon)):
        assert starts(api, schedule_x, day)[0] == nine.isoformat()


def test_clinic_notice_and_doctor_status_show_at_once(api, schedule_x, clinic_x, day, committed):
    nine = at(day, 9)
    with freeze_time(nine - timedelta(hours=3)):
        assert starts(api, schedule_x, day)[0] == nine.isoformat()
        clinic = Clinic.objects.get(pk=clinic_x.pk)
        clinic.min_notice_minutes = 4 * 60
        with committed():
            clinic.save()
        assert starts(api, schedule_x, day)[0] == at(day, 10).isoformat()

    doctor = Doctor.objects.get(pk=schedule_x.pk)
    doctor.is_active = False
    with committed():
        doctor.save()
    response = api.get(f"/api/v1/doctors/{schedule_x.id}/slots/?from={day}&to={day}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_entry_read_before_a_write_commits_is_never_used(api, ayse, schedule_x, day, settings, committed):
    """The versions are read before the database: an answer computed from a read that began before
    the booking committed is stored under the old version, and misses once the version is replaced."""
    from django.core.cache import cache

    original = slot_cache._clock_free
    booked = {}

    def compute_then_book(schedules, *args):
        rows = original(schedules, *args)  # the schedule read before the booking
        if not booked:
            with committed():
                booked["appointment"] = book(ayse, schedule_x, at(day, 10))
        return rows

    slot_cache._clock_free = compute_then_book
    try:
        stale = starts(api, schedule_x, day)
    finally:
        slot_cache._clock_free = original

    assert at(day, 10).isoformat() in stale  # this read began before the booking
    assert cache.get(slot_cache._entry_key(schedule_x.id, day, day)) is not None  # and was stored
    assert at(day, 10).isoformat() not in starts(api, schedule_x, day)  # but is never used again


def test_off_without_a_shared_cache_and_reads_the_database(api, schedule_x, day, settings, django_assert_num_queries):
    settings.SLOT_CACHE_SECONDS = 0
    starts(api, schedule_x, day)
    with django_assert_num_queries(3):  # the doctor, hours and breaks, time off and bookings
        starts(api, schedule_x, day)
    TimeOff.objects.create(doctor=schedule_x, start=at(day, 9), end=at(day, 12))  # no service, no version
    assert starts(api, schedule_x, day)[0] == at(day, 12).isoformat()


def test_a_transaction_replaces_every_version_it_bumped_once_more_after_commit_in_one_call(day):
    import uuid

    from django.core.cache import cache
    from django.db import transaction

    from appointments import cache_versions

    def flushes():
        return [
            f
            for _sids, f, _robust in transaction.get_connection().run_on_commit
            if f.__module__ == "appointments.cache_versions"
        ]

    one, two = uuid.uuid4(), uuid.uuid4()
    keys = [cache_versions.doctor_key(one), cache_versions.doctor_key(two), cache_versions.ANY_DOCTOR]
    keys += [cache_versions.day_key(day), cache_versions.SEARCH]
    assert flushes() == []
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            cache_versions.bump_everything()  # its callback goes with the savepoint
            raise RuntimeError
        assert flushes() == []
        cache_versions.bump_doctors([one], days=[day])
        cache_versions.bump_doctors([two])
        cache_versions.bump_search()
    during = cache.get_many(keys)
    assert set(during) == set(keys)  # replaced at once, for reads later in the transaction
    (flush,) = flushes()  # one call after the commit, for all of them
    assert flush.pending == set(keys)
    flush()
    after = cache.get_many(keys)
    assert all(after[key] != during[key] for key in keys)
