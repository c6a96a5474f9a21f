"""A one-doctor schedule read (a booking, a doctor's slots) runs prepared queries
(medplatform.prepared_queries); it must read exactly what the same read of several doctors does."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appointments.models import TimeOff
from appointments.selectors import Schedules
from tests.appointments.conftest import at, book

pytestmark = pytest.mark.django_db


def read_of(schedules: Schedules, doctor_id) -> tuple:
    return (
        sorted(schedules.shifts.get(doctor_id, []), key=repr),
        sorted(schedules.pauses.get(doctor_id, []), key=repr),
        sorted(schedules._busy_intervals.get(doctor_id, [])),
        sorted(schedules._held_for_patient.get(doctor_id, [])),
    )


def test_one_doctors_read_is_what_the_read_of_several_doctors_gives_for_them(
    ayse, mehmet, schedule_x, schedule_y, day, django_assert_num_queries
):
    ten = book(ayse, schedule_x, at(day, 10))
    book(mehmet, schedule_x, at(day, 11))
    book(mehmet, schedule_y, at(day, 10))
    TimeOff.objects.create(doctor=schedule_x, start=at(day, 14), end=at(day, 15, 30), reason="toplantı")
    first, last = day - timedelta(days=1), day + timedelta(days=1)
    for variant in [
        {},
        {"exclude_appointment": ten},
        {"for_patient": ayse},
        {"exclude_appointment": ten, "for_patient": mehmet},
    ]:
        with django_assert_num_queries(2):  # working hours and breaks; busy time
            one = Schedules([schedule_x.pk], first_day=first, last_day=last, **variant)
        several = Schedules([schedule_x.pk, schedule_y.pk], first_day=first, last_day=last, **variant)
        assert read_of(one, schedule_x.pk) == read_of(several, schedule_x.pk)
        assert read_of(one, schedule_x.pk)[2], "the bookings and the time off are read"
        now = timezone.now()
        assert list(one.free_slots(schedule_x.pk, first_day=first, last_day=last, now=now)) == list(
            several.free_slots(schedule_x.pk, first_day=first, last_day=last, now=now)
        )
    plain = Schedules([schedule_x.pk], first_day=first, last_day=last)
    excluded = Schedules([schedule_x.pk], first_day=first, last_day=last, exclude_appointment=ten)
    assert len(read_of(excluded, schedule_x.pk)[2]) == len(read_of(plain, schedule_x.pk)[2]) - 1
    # The id given as text reads the same doctor.
    as_text = Schedules([str(schedule_x.pk)], first_day=first, last_day=last)
    assert read_of(as_text, schedule_x.pk) == read_of(plain, schedule_x.pk)
