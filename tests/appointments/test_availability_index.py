"""The availability index stays exact: thousands of seeded random schedule and booking changes,
around the DST changes of a clinic in Berlin beside one in Istanbul (no DST), each followed by a
comparison of the stored index with a recomputation from scratch; search answers compared with
the live slot computation as the clock moves; the daily roll and the rebuild command."""

import random
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from freezegun import freeze_time

from accounts.models import Doctor
from appointments import availability_index, search
from appointments.models import Appointment, Break, DayAvailability, TimeOff, WorkingHours
from appointments.selectors import slots_for
from appointments.services import (
    appointment_book,
    appointment_cancel,
    appointment_complete,
    appointment_mark_no_show,
    appointment_reschedule,
    break_create,
    break_delete,
    time_off_create,
    time_off_delete,
    working_hours_create,
    working_hours_delete,
    working_hours_update,
)
from medplatform.errors import ApplicationError
from privacy.services import consent_active_grants, consent_withdraw
from tests.appointments.conftest import at, book, grant_booking_consent
from tests.factories import ClinicFactory, DoctorFactory, UserFactory

pytestmark = pytest.mark.django_db

SEED = 20261025
# Europe/Berlin leaves summer time on Sunday 2026-10-25 (02:00-03:00 happens twice) and enters
# it on Sunday 2027-03-28 (02:00-03:00 never happens); each run starts a few days before.
DST_RUNS = [datetime(2026, 10, 21, 7, 0, tzinfo=UTC), datetime(2027, 3, 24, 7, 0, tzinfo=UTC)]
STEPS_PER_RUN = 1000
SEARCH_CHECK_EVERY = 100


class Cast:
    """Two clinics, three doctors (one at both), patients holding the booking consent."""

    def __init__(self):
        self.berlin = ClinicFactory(
            name="Klinik Berlin", city="Berlin", timezone="Europe/Berlin", min_notice_minutes=120, horizon_days=12
        )
        # A notice longer than a day: tomorrow is cut too, not only today.
        self.istanbul = ClinicFactory(
            name="Klinik İstanbul",
            city="İstanbul",
            timezone="Europe/Istanbul",
            min_notice_minutes=26 * 60,
            horizon_days=9,
        )
        self.doctors = [
            DoctorFactory(clinics=[self.berlin]),
            DoctorFactory(clinics=[self.istanbul]),
            DoctorFactory(clinics=[self.berlin, self.istanbul]),
        ]
        self.patients = [UserFactory() for _ in range(8)]
        for patient in self.patients:
            grant_booking_consent(patient)


def clinics_of(doctor: Doctor):
    return list(doctor.clinics.order_by("name"))


def wall(rng: random.Random, earliest: int = 0, latest: int = 24 * 60) -> time:
    """A wall-clock time on a 15-minute grid, often inside the DST hours 01:00-04:00."""
    minutes = rng.randrange(60, 4 * 60, 15) if rng.random() < 0.4 else rng.randrange(earliest, latest, 15)
    return time(minutes // 60, minutes % 60)


def span(rng: random.Random):
    start = wall(rng, 0, 22 * 60)
    end_minutes = start.hour * 60 + start.minute + rng.choice([30, 60, 90, 120, 180, 300])
    return start, time(min(end_minutes, 23 * 60 + 45) // 60, min(end_minutes, 23 * 60 + 45) % 60)


def free_slots(doctor: Doctor, now: datetime):
    today = now.date()
    return slots_for(doctor=doctor, first_day=today - timedelta(days=1), last_day=today + timedelta(days=14), now=now)


class Operations:
    def __init__(self, cast: Cast, rng: random.Random, frozen):
        self.cast, self.rng, self.frozen = cast, rng, frozen
        self.done: dict[str, int] = {}

    def now(self) -> datetime:
        return datetime.now(UTC)

    def pick(self, items):
        items = list(items)
        return self.rng.choice(items) if items else None

    # Picks go by stable keys, never by the random UUIDs, so that a seed replays the same run.
    def booked(self, **filters):
        booked = Appointment.objects.filter(status=Appointment.Status.BOOKED, **filters)
        return self.pick(booked.order_by("start", "doctor__registration_number"))

    def any_hours(self):
        hours = WorkingHours.objects.select_related("doctor__user", "clinic")
        return self.pick(hours.order_by("doctor__registration_number", "weekday", "start_time"))

    # --- the operations ----------------------------------------------------------------------

    def book(self):
        doctor = self.pick(self.cast.doctors)
        slot = self.pick(free_slots(doctor, self.now()))
        if slot is None:
            return
        start = slot.start if self.rng.random() < 0.9 else slot.start + timedelta(minutes=5)  # a refused one too
        appointment_book(
            patient=self.pick(self.cast.patients),
            doctor=doctor,
            start=start,
            visit_reason="kontrol",
            visit_type=self.pick(slot.visit_types),
        )

    def cancel(self):
        appointment = self.booked(start__gt=self.now())
        if appointment is None:
            return
        if self.rng.random() < 0.5:
            appointment_cancel(appointment=appointment, actor=appointment.patient)
        else:
            appointment_cancel(appointment=appointment, actor=appointment.doctor.user, reason="Doktor izinli")

    def reschedule(self):
        appointment = self.booked(start__gt=self.now())
        if appointment is None:
            return
        slots = [s for s in free_slots(appointment.doctor, self.now()) if s.clinic_id == appointment.clinic_id]
        slot = self.pick(slots)
        if slot is not None:
            appointment_reschedule(appointment=appointment, actor=appointment.patient, start=slot.start)

    def hours_create(self):
        doctor = self.pick(self.cast.doctors)
        start, end = span(self.rng)
        working_hours_create(
            actor=doctor.user,
            doctor=doctor,
            clinic=self.pick(clinics_of(doctor)),
            weekday=6 if self.rng.random() < 0.4 else self.rng.randrange(7),  # the DST changes are on Sundays
            start_time=start,
            end_time=end,
            slot_minutes=self.pick([15, 20, 30, 45, 60]),
            visit_types=self.pick([["in_person"], ["online"], ["in_person", "online"]]),
        )

    def hours_update(self):
        hours = self.any_hours()
        if hours is None:
            return
        start, end = span(self.rng)
        changes = self.pick([{"start_time": start, "end_time": end}, {"weekday": self.rng.randrange(7)}])
        changes |= {"slot_minutes": self.pick([15, 30, 60])} if self.rng.random() < 0.3 else {}
        working_hours_update(actor=hours.doctor.user, hours=hours, **changes)

    def hours_delete(self):
        hours = self.any_hours()
        if hours is not None and WorkingHours.objects.count() > 3:
            working_hours_delete(actor=hours.doctor.user, hours=hours)

    def break_create(self):
        hours = self.any_hours()
        if hours is None:
            return
        start, end = span(self.rng)
        break_create(
            actor=hours.doctor.user,
            doctor=hours.doctor,
            clinic=hours.clinic,
            weekday=hours.weekday,
            start_time=start,
            end_time=end,
        )

    def break_delete(self):
        breaks = Break.objects.select_related("doctor__user", "clinic")
        pause = self.pick(breaks.order_by("doctor__registration_number", "weekday", "start_time", "end_time"))
        if pause is not None:
            break_delete(actor=pause.doctor.user, pause=pause)

    def time_off_create(self):
        doctor = self.pick(self.cast.doctors)
        start = self.now() + timedelta(minutes=self.rng.randrange(-24 * 60, 12 * 24 * 60, 15))
        time_off_create(
            actor=doctor.user,
            doctor=doctor,
            start=start,
            end=start + timedelta(minutes=self.rng.randrange(30, 40 * 60, 15)),
            cancel_appointments=self.rng.random() < 0.7,
        )

    def time_off_delete(self):
        time_off = self.pick(
            TimeOff.objects.select_related("doctor__user").order_by("doctor__registration_number", "start", "end")
        )
        if time_off is not None:
            time_off_delete(actor=time_off.doctor.user, time_off=time_off)

    def outcome(self):
        appointment = self.booked(start__lte=self.now())
        if appointment is not None:
            mark = self.pick([appointment_complete, appointment_mark_no_show])
            mark(appointment=appointment, actor=appointment.doctor.user)

    def clock(self):
        """Time passes (a visit can then be completed); at a new UTC day the beat task rolls."""
        before = self.now().date()
        self.frozen.tick(timedelta(minutes=self.rng.randrange(30, 10 * 60, 15)))
        if self.now().date() != before:
            availability_index.roll()

    WEIGHTS = {
        "book": 30,
        "cancel": 10,
        "reschedule": 10,
        "hours_create": 8,
        "hours_update": 6,
        "hours_delete": 3,
        "break_create": 5,
        "break_delete": 3,
        "time_off_create": 6,
        "time_off_delete": 3,
        "outcome": 4,
        "clock": 4,
    }

    def step(self) -> str:
        name = self.rng.choices(list(self.WEIGHTS), weights=list(self.WEIGHTS.values()))[0]
        try:
            getattr(self, name)()
            self.done[name] = self.done.get(name, 0) + 1
        except ApplicationError:
            self.done[name + " refused"] = self.done.get(name + " refused", 0) + 1
        return name


def assert_search_matches_live_slots(cast: Cast):
    """available_on for every day of the window and next_available, against slots_for at this now."""
    now = datetime.now(UTC)
    expected_next = {}
    for doctor in cast.doctors:
        slots = slots_for(
            doctor=doctor, first_day=now.date() - timedelta(days=1), last_day=now.date() + timedelta(days=14), now=now
        )
        if slots:
            expected_next[doctor.id] = slots[0].start
    found_next = search.next_available_for(doctor_ids=[d.id for d in cast.doctors], now=now)
    # As instants: in a clinic's zone, 02:30 on the night the clocks go back happens twice, and
    # Python never calls such a time equal to one in another zone (PEP 495).
    assert {doctor_id: start.astimezone(UTC) for doctor_id, start in found_next.items()} == expected_next
    assert all(start.tzinfo.key in {"Europe/Berlin", "Europe/Istanbul"} for start in found_next.values())
    for offset in range(-1, 15):
        day = now.date() + timedelta(days=offset)
        live = {d.id for d in cast.doctors if slots_for(doctor=d, first_day=day, last_day=day, now=now)}
        assert set(search.doctor_list(available_on=day, now=now).values_list("id", flat=True)) == live, day


@override_settings(BOOKING_MAX_FUTURE_APPOINTMENTS=50)
@pytest.mark.parametrize("started", DST_RUNS, ids=["dst-end-2026-10-25", "dst-start-2027-03-28"])
def test_the_index_equals_a_recomputation_after_every_random_operation(started):
    rng = random.Random(f"{SEED}-{started:%Y%m%d}")  # noqa: S311 - a fixed seed, reproducible
    with freeze_time(started) as frozen:
        # given: a starting schedule, with Sunday hours across the DST change in Berlin
        cast = Cast()
        for doctor in cast.doctors:
            for clinic in clinics_of(doctor):
                for weekday in (0, 2, 6):
                    start = time(9)
                    if weekday == 6 and clinic == cast.berlin:
                        start = time(1)
                    elif clinic == cast.istanbul and doctor == cast.doctors[2]:
                        start = time(15)
                    working_hours_create(
                        actor=doctor.user,
                        doctor=doctor,
                        clinic=clinic,
                        weekday=weekday,
                        start_time=start,
                        end_time=time(start.hour + 5),
                    )
        operations = Operations(cast, rng, frozen)

        for step in range(STEPS_PER_RUN):
            name = operations.step()

            # then: after every operation, stored == recomputed from scratch
            assert availability_index.differences() == [], f"step {step}: {name}"
            if step % SEARCH_CHECK_EVERY == 0:
                assert_search_matches_live_slots(cast)

    assert DayAvailability.objects.exists()
    # the mix really happened, refusals included
    for name in ("book", "cancel", "reschedule", "hours_create", "time_off_create", "break_create", "clock"):
        assert operations.done.get(name, 0) > 0, operations.done
    assert sum(v for k, v in operations.done.items() if k.endswith("refused")) > 0


def test_a_slot_in_the_repeated_hour_of_a_dst_end_is_counted_once_per_real_time():
    with freeze_time(datetime(2026, 10, 21, 7, 0, tzinfo=UTC)):
        berlin = ClinicFactory(timezone="Europe/Berlin", min_notice_minutes=0, horizon_days=30)
        doctor = DoctorFactory(clinics=[berlin])
        # 01:00-04:00 on Sunday 2026-10-25 lasts four real hours (02:00-03:00 happens twice)
        working_hours_create(
            actor=doctor.user, doctor=doctor, clinic=berlin, weekday=6, start_time=time(1), end_time=time(4)
        )

        row = DayAvailability.objects.get(doctor=doctor, day="2026-10-25")

    assert row.free_slots == 8  # 4 real hours of 30-minute slots
    assert row.first_free == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert row.last_free == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)


def test_the_daily_roll_adds_the_day_entering_the_horizon_and_drops_the_past():
    with freeze_time(datetime(2026, 12, 1, 8, 0, tzinfo=UTC)) as frozen:
        clinic = ClinicFactory(horizon_days=5)
        doctor = DoctorFactory(clinics=[clinic])
        for weekday in range(7):
            working_hours_create(
                actor=doctor.user, doctor=doctor, clinic=clinic, weekday=weekday, start_time=time(9), end_time=time(10)
            )
        days = set(DayAvailability.objects.values_list("day", flat=True))
        assert min(days).isoformat() == "2026-11-30" and max(days).isoformat() == "2026-12-08"

        frozen.tick(timedelta(days=1))
        assert availability_index.differences() != []  # a day late: the index lags until the roll

        availability_index.roll()

        assert availability_index.differences() == []
        days = set(DayAvailability.objects.values_list("day", flat=True))
        assert min(days).isoformat() == "2026-12-01" and max(days).isoformat() == "2026-12-09"


def test_rebuild_availability_check_reports_a_difference_and_the_rebuild_repairs_it(capsys):
    clinic = ClinicFactory()
    doctor = DoctorFactory(clinics=[clinic])
    working_hours_create(
        actor=doctor.user, doctor=doctor, clinic=clinic, weekday=0, start_time=time(9), end_time=time(12)
    )
    call_command("rebuild_availability", "--check")  # exact: no error
    # a write that bypasses the services (a bulk load) leaves the index behind
    DayAvailability.objects.filter(doctor=doctor).update(free_slots=0, first_free=None, last_free=None, free_starts=[])

    with pytest.raises(CommandError, match="differs from a recomputation"):
        call_command("rebuild_availability", "--check")
    call_command("rebuild_availability")

    call_command("rebuild_availability", "--check")
    assert "no differences" in capsys.readouterr().out


def test_withdrawing_the_booking_consent_frees_the_slots_with_every_doctor_in_the_index(
    ayse, schedule_x, schedule_y, day
):
    book(ayse, schedule_x, at(day, 10))
    book(ayse, schedule_y, at(day, 11))
    full = dict(DayAvailability.objects.filter(day=day).values_list("doctor_id", "free_slots"))
    grant = consent_active_grants(subject=ayse, purpose="appointment_health_data").get()

    consent_withdraw(subject=ayse, grant_id=grant.id)

    freed = dict(DayAvailability.objects.filter(day=day).values_list("doctor_id", "free_slots"))
    assert freed == {schedule_x.id: full[schedule_x.id] + 1, schedule_y.id: full[schedule_y.id] + 1}
    assert availability_index.differences() == []
