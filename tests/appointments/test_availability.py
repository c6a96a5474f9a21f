"""Slot computation: DST days, breaks, time off, bookings, minimum notice and horizon."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from appointments.availability import Busy, Pause, Shift, free_slots
from appointments.models import TimeOff
from appointments.selectors import slots_for
from tests.appointments.conftest import at, book, working_day
from tests.factories import ClinicFactory, DoctorFactory

BERLIN = ZoneInfo("Europe/Berlin")
ISTANBUL = ZoneInfo("Europe/Istanbul")
SPRING_FORWARD = date(2027, 3, 28)  # Sunday: Berlin 02:00 CET -> 03:00 CEST
FALL_BACK = date(2027, 10, 31)  # Sunday: Berlin 03:00 CEST -> 02:00 CET
LONG_AGO = datetime(2027, 1, 1, tzinfo=UTC)


def shift(weekday, start, end, tz="Europe/Berlin", minutes=30, horizon_days=400):
    return Shift(
        weekday=weekday,
        start_time=start,
        end_time=end,
        slot_minutes=minutes,
        clinic_id="c",
        timezone=tz,
        min_notice=timedelta(hours=2),
        horizon=timedelta(days=horizon_days),
    )


def slots(shifts, day, *, pauses=(), busy=(), now=LONG_AGO, last_day=None):
    return list(free_slots(shifts=shifts, pauses=pauses, busy=busy, first_day=day, last_day=last_day or day, now=now))


def assert_contiguous_half_hours(found):
    for slot in found:
        assert slot.end - slot.start == timedelta(minutes=30)
    for earlier, later in zip(found, found[1:], strict=False):
        assert earlier.end == later.start


def test_a_berlin_morning_starts_an_hour_earlier_in_utc_after_spring_forward():
    sunday = [shift(6, time(9), time(12))]

    before = slots(sunday, SPRING_FORWARD - timedelta(days=7))
    after = slots(sunday, SPRING_FORWARD)

    assert before[0].start == datetime(2027, 3, 21, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert after[0].start == datetime(2027, 3, 28, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert after[0].start.astimezone(BERLIN).time() == time(9)
    assert len(before) == len(after) == 6


def test_a_night_shift_on_the_spring_forward_day_is_an_hour_shorter_without_overlaps():
    found = slots([shift(6, time(1), time(4))], SPRING_FORWARD)

    # 01:00 CET (00:00Z) to 04:00 CEST (02:00Z): two real hours
    assert found[0].start == datetime(2027, 3, 28, 0, 0, tzinfo=UTC)
    assert found[-1].end == datetime(2027, 3, 28, 2, 0, tzinfo=UTC)
    assert len(found) == 4
    assert_contiguous_half_hours(found)
    assert [slot.start.astimezone(BERLIN).strftime("%H:%M") for slot in found] == ["01:00", "01:30", "03:00", "03:30"]


def test_a_night_shift_on_the_fall_back_day_is_an_hour_longer_and_every_slot_is_distinct():
    found = slots([shift(6, time(1), time(4))], FALL_BACK)

    # 01:00 CEST (23:00Z the day before) to 04:00 CET (03:00Z): four real hours
    assert found[0].start == datetime(2027, 10, 30, 23, 0, tzinfo=UTC)
    assert found[-1].end == datetime(2027, 10, 31, 3, 0, tzinfo=UTC)
    assert len(found) == 8
    assert len({slot.start for slot in found}) == 8
    assert_contiguous_half_hours(found)


def test_a_day_shift_on_the_fall_back_day_keeps_its_wall_clock_times():
    found = slots([shift(6, time(9), time(17))], FALL_BACK)

    assert [slot.start.astimezone(BERLIN).time() for slot in found][:2] == [time(9), time(9, 30)]
    assert found[0].start == datetime(2027, 10, 31, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert len(found) == 16


def test_istanbul_has_no_dst_so_9_is_6_utc_all_year():
    monday = [shift(0, time(9), time(10), tz="Europe/Istanbul")]

    winter = slots(monday, date(2027, 1, 4))
    summer = slots(monday, date(2027, 7, 5))

    assert winter[0].start == datetime(2027, 1, 4, 6, 0, tzinfo=UTC)
    assert summer[0].start == datetime(2027, 7, 5, 6, 0, tzinfo=UTC)


def test_breaks_remove_the_slots_they_touch():
    monday = date(2027, 1, 4)
    found = slots(
        [shift(0, time(9), time(14), tz="Europe/Istanbul")],
        monday,
        pauses=[Pause(0, time(12, 30), time(13, 30), "c")],
    )

    local = [slot.start.astimezone(ISTANBUL).strftime("%H:%M") for slot in found]
    assert "12:30" not in local and "13:00" not in local
    assert "12:00" in local and "13:30" in local


def test_busy_time_removes_every_slot_it_overlaps():
    monday = date(2027, 1, 4)
    off = (datetime(2027, 1, 4, 7, 15, tzinfo=UTC), datetime(2027, 1, 4, 8, 0, tzinfo=UTC))  # 10:15–11:00 local
    found = slots([shift(0, time(9), time(12), tz="Europe/Istanbul")], monday, busy=[off])

    local = [slot.start.astimezone(ISTANBUL).strftime("%H:%M") for slot in found]
    assert local == ["09:00", "09:30", "11:00", "11:30"]


def test_minimum_notice_and_horizon_bound_the_slots():
    monday = date(2027, 1, 4)
    now = datetime(2027, 1, 4, 6, 0, tzinfo=UTC)  # 09:00 local
    found = slots(
        [shift(0, time(9), time(17), tz="Europe/Istanbul", horizon_days=7)],
        monday,
        now=now,
        last_day=monday + timedelta(days=14),
    )

    assert found[0].start == now + timedelta(hours=2)
    assert max(slot.start for slot in found) <= now + timedelta(days=7)
    assert len({slot.start.date() for slot in found}) == 2  # this Monday and the next one, nothing later


def test_the_busy_index_finds_long_intervals_that_started_earlier():
    long_off = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 1, 10, tzinfo=UTC))
    busy = Busy([long_off, (datetime(2027, 1, 5, 9, tzinfo=UTC), datetime(2027, 1, 5, 10, tzinfo=UTC))])

    assert busy.overlaps(datetime(2027, 1, 8, tzinfo=UTC), datetime(2027, 1, 8, 0, 30, tzinfo=UTC))
    assert not busy.overlaps(datetime(2027, 1, 10, tzinfo=UTC), datetime(2027, 1, 10, 0, 30, tzinfo=UTC))


# --- from the database and the API ---------------------------------------------------------------


@pytest.mark.django_db
def test_berlin_clinic_slots_follow_the_clocks_in_the_database(db):
    from appointments.demo import create_demo_schedule

    clinic = ClinicFactory(timezone="Europe/Berlin", horizon_days=400)
    doctor = DoctorFactory(clinics=[clinic])
    create_demo_schedule(doctor, clinic)
    friday, monday = date(2027, 3, 26), date(2027, 3, 29)

    found = slots_for(doctor=doctor, first_day=friday, last_day=monday, now=datetime(2027, 3, 1, tzinfo=UTC))

    firsts = sorted({slot.start for slot in found if slot.start.astimezone(BERLIN).time() == time(9)})
    assert firsts == [datetime(2027, 3, 26, 8, 0, tzinfo=UTC), datetime(2027, 3, 29, 7, 0, tzinfo=UTC)]


@pytest.mark.django_db
def test_the_slots_endpoint_lists_free_slots_in_the_clinic_zone(api, booked, schedule_x, clinic_x, day):
    response = api.get(f"/api/v1/doctors/{schedule_x.id}/slots/?from={day}&to={day}")

    assert response.status_code == 200
    body = response.json()
    starts = [slot["start"] for slot in body]
    assert starts[0] == at(day, 9).isoformat()
    assert at(day, 10).isoformat() not in starts  # booked
    assert at(day, 12, 30).isoformat() not in starts  # lunch
    assert len(starts) == 16 - 2 - 1
    assert body[0]["end"] == at(day, 9, 30).isoformat()
    assert body[0]["clinic"] == str(clinic_x.id)


@pytest.mark.django_db
def test_the_slots_endpoint_hides_time_off(api, schedule_x, day):
    TimeOff.objects.create(doctor=schedule_x, start=at(day, 9), end=at(day, 12))

    starts = [slot["start"] for slot in api.get(f"/api/v1/doctors/{schedule_x.id}/slots/?from={day}&to={day}").json()]

    assert starts[0] == at(day, 12).isoformat()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "last"), [(0, 31), (5, 4), ("x", 3)], ids=["32-days", "to-before-from", "not-a-date"]
)
def test_the_slots_endpoint_refuses_bad_windows(api, schedule_x, day, first, last):
    first_text = day + timedelta(days=first) if isinstance(first, int) else first
    response = api.get(f"/api/v1/doctors/{schedule_x.id}/slots/?from={first_text}&to={day + timedelta(days=last)}")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


@pytest.mark.django_db
def test_thirty_one_days_are_allowed(api, schedule_x, day):
    response = api.get(f"/api/v1/doctors/{schedule_x.id}/slots/?from={day}&to={day + timedelta(days=30)}")

    assert response.status_code == 200


@pytest.mark.django_db
def test_booking_inside_the_minimum_notice_gets_409(as_user, ayse, schedule_x, clinic_x, day):
    clinic_x.min_notice_minutes = 60 * 24 * 60
    clinic_x.save()

    response = as_user(ayse).post(
        "/api/v1/appointments/", {"doctor": str(schedule_x.id), "start": at(day, 10).isoformat(), "visit_reason": "x"}
    )

    assert response.json()["code"] == "slot_unavailable"


@pytest.mark.django_db
def test_booking_beyond_the_horizon_gets_409(as_user, ayse, schedule_x, clinic_x):
    clinic_x.horizon_days = 3
    clinic_x.save()

    response = as_user(ayse).post(
        "/api/v1/appointments/",
        {"doctor": str(schedule_x.id), "start": at(working_day(10), 10).isoformat(), "visit_reason": "x"},
    )

    assert response.json()["code"] == "slot_unavailable"


@pytest.mark.django_db
def test_booking_in_the_past_gets_409(as_user, ayse, schedule_x):
    last_week = working_day(-14)

    response = as_user(ayse).post(
        "/api/v1/appointments/",
        {"doctor": str(schedule_x.id), "start": at(last_week, 10).isoformat(), "visit_reason": "x"},
    )

    assert response.json()["code"] == "slot_unavailable"


@pytest.mark.django_db
def test_booking_inside_time_off_gets_409(ayse, schedule_x, day):
    from appointments.errors import SlotUnavailable

    TimeOff.objects.create(doctor=schedule_x, start=at(day, 0), end=at(day, 23))

    with pytest.raises(SlotUnavailable):
        book(ayse, schedule_x, at(day, 10))


@pytest.mark.django_db
def test_booking_in_a_break_gets_409(ayse, schedule_x, day):
    from appointments.errors import SlotUnavailable

    with pytest.raises(SlotUnavailable):
        book(ayse, schedule_x, at(day, 13))
