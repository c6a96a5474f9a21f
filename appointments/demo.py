"""Demo schedules for the embedded default's demo data (called by the demo-data command)."""

from datetime import time

from django.db import transaction

from accounts.models import Clinic, Doctor
from appointments.models import Break, VisitType, WorkingHours

DEMO_WEEKDAYS = range(0, 5)  # Monday to Friday


def create_demo_schedule(doctor: Doctor, clinic: Clinic) -> None:
    """Weekdays 09:00–17:00 in 30-minute slots (in person or online) with a 12:30–13:30 break."""
    with transaction.atomic():
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
