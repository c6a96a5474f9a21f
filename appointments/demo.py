"""Demo schedules for the embedded default's demo data (called by the demo-data command)."""

from datetime import time

from django.db import transaction

from accounts.models import Clinic, Doctor
from appointments import availability_index, locks
from appointments.models import Break, VisitType, WorkingHours

DEMO_WEEKDAYS = range(0, 5)  # Monday to Friday


def create_demo_schedule(doctor: Doctor, clinic: Clinic) -> None:
    """Weekdays 09:00–17:00 in 30-minute slots (in person or online) with a 12:30–13:30 break."""
    with transaction.atomic():
        locks.hold_doctors([doctor.id])
        doctor.clinics.add(clinic)
        for weekday in DEMO_WEEKDAYS:
            WorkingHours.objects.get_or_create(
                doctor=doctor,
                clinic=clinic,
                weekday=weekday,
                start_time=time(9, 0),
                defaults={
                    "end_time": time(17, 0),
                    "slot_minutes": 30,
                    "visit_types": [VisitType.IN_PERSON.value, VisitType.ONLINE.value],
                },
            )
            Break.objects.get_or_create(
                doctor=doctor,
                clinic=clinic,
                weekday=weekday,
                start_time=time(12, 30),
                defaults={"end_time": time(13, 30)},
            )
        availability_index.refresh_doctor(doctor_id=doctor.id)


def create_demo_activity(*, doctor: Doctor, patients: list) -> int:
    """A living week for the demo doctor, through the same services as the app: booking consents,
    two visits a day with the demo patients over the coming working days (the second one online), a
    completed visit with a published review, and the first patient's health profile shared with the
    doctor. Creates only what is missing; returns how many appointments it booked."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.utils import timezone

    from appointments.models import Appointment
    from appointments.selectors import slots_for
    from appointments.services import appointment_book
    from health_profiles.selectors import share_active_for
    from health_profiles.services import entry_create
    from medplatform.errors import ApplicationError
    from privacy.models import Purpose
    from privacy.services import consent_grant, consent_is_active, current_version
    from reviews.models import Review
    from reviews.services import review_create

    def consent(patient, purpose: str, **scope) -> None:
        if not consent_is_active(subject=patient, purpose=purpose, doctor=scope.get("doctor")):
            consent_grant(
                subject=patient, purpose=purpose, text_version=current_version(purpose), language="tr", **scope
            )

    now = timezone.now()
    for patient in patients:
        consent(patient, Purpose.APPOINTMENT_HEALTH_DATA)

    booked = 0
    upcoming = Appointment.objects.filter(
        doctor=doctor, status=Appointment.Status.BOOKED, start__gte=now, start__lt=now + timedelta(days=7)
    )
    if not upcoming.exists():
        today = timezone.localdate(timezone=ZoneInfo(settings.DEFAULT_CLINIC_TIMEZONE))
        by_day: dict = {}
        for slot in slots_for(doctor=doctor, first_day=today, last_day=today + timedelta(days=7)):
            by_day.setdefault(slot.start.astimezone(ZoneInfo(slot.timezone)).date(), []).append(slot)
        reasons = ["Çarpıntı ve yorgunluk", "Kontrol muayenesi", "Baş ağrısı", "Tahlil sonuçları", "Cilt döküntüsü"]
        for number, slots in enumerate(list(by_day.values())[:5]):
            for patient, slot in zip(patients, (slots[len(slots) // 4], slots[len(slots) // 2]), strict=False):
                online = patient is patients[-1] and VisitType.ONLINE.value in slot.visit_types
                try:
                    appointment_book(
                        patient=patient,
                        doctor=doctor,
                        start=slot.start,
                        visit_reason=reasons[number % len(reasons)],
                        visit_type=VisitType.ONLINE if online else VisitType.IN_PERSON,
                    )
                    booked += 1
                except ApplicationError:  # a patient's own limits (demo data only): skip that visit
                    continue

    first = patients[0]
    if not Review.objects.filter(patient=first, doctor=doctor).exists():
        # A visit in the past cannot be booked; the demo writes the completed one directly.
        end = now - timedelta(days=2)
        visited = Appointment.objects.create(
            patient=first,
            doctor=doctor,
            clinic=doctor.clinics.order_by("name").first(),
            start=end - timedelta(minutes=30),
            end=end,
            status=Appointment.Status.COMPLETED,
        )
        consent(first, Purpose.REVIEW_PUBLICATION)
        review_create(
            patient=first,
            appointment_id=visited.id,
            rating=5,
            comment="Çok ilgili ve açıklayıcı bir hekim.",
            publish=True,
        )

    consent(first, Purpose.HEALTH_PROFILE_STORAGE)
    if not first.health_entries.exists():
        entry_create(
            patient=first,
            category="allergy",
            values={"name": "Penisilin", "details": "Kurdeşen", "reaction": "Nefes darlığı", "severity": "severe"},
        )
        entry_create(
            patient=first,
            category="medication",
            values={"name": "Metoprolol", "details": "Sabah", "dose": "50 mg", "frequency": "Günde 1"},
        )
    if share_active_for(doctor_user=doctor.user, patient_id=first.pk) is None:
        consent(
            first,
            Purpose.HEALTH_PROFILE_SHARE,
            doctor=doctor,
            categories=["allergy", "medication", "condition", "treatment"],
        )
    return booked
