"""Demo data for the embedded default: `manage.py seed_demo` (idempotent; `make run` calls it).

Every account gets the same demo-only password, printed at the end. Refused under
MEDPLATFORM_ENV=production: known passwords never belong in a real database.
"""

import functools
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Clinic, ClinicMembership, Doctor, Specialty, User
from appointments.demo import create_demo_schedule
from privacy.startup import verify_for_command

DEMO_PASSWORD = "demo-only-Password-1"  # noqa: S105  (printed on purpose: demo database only)


@dataclass(frozen=True)
class DemoClinic:
    key: str
    name: str
    city: str
    address: str


@dataclass(frozen=True)
class DemoDoctor:
    email: str
    first_name: str
    last_name: str
    title: str
    specialty: str
    registration_number: str
    clinics: tuple[str, ...]
    bio: str


CLINICS = [
    DemoClinic("kadikoy", "Demo Kadıköy Polikliniği", "İstanbul", "Bahariye Cad. 12, Kadıköy"),
    DemoClinic("cankaya", "Demo Çankaya Tıp Merkezi", "Ankara", "Tunalı Hilmi Cad. 40, Çankaya"),
]

DOCTORS = [
    DemoDoctor(
        "doktor.kardiyoloji@demo.medplatform.test",
        "Selin",
        "Aydın",
        "Uzm. Dr.",
        "cardiology",
        "DEMO-0001",
        ("kadikoy",),
        "Kardiyoloji uzmanı; ritim bozuklukları ve hipertansiyon.",
    ),
    DemoDoctor(
        "doktor.dermatoloji@demo.medplatform.test",
        "Emre",
        "Koç",
        "Dr.",
        "dermatology",
        "DEMO-0002",
        ("kadikoy",),
        "Dermatoloji; akne, egzama ve cilt kanseri taraması.",
    ),
    DemoDoctor(
        "doktor.pediatri@demo.medplatform.test",
        "Zehra",
        "Arslan",
        "Doç. Dr.",
        "pediatrics",
        "DEMO-0003",
        ("cankaya",),
        "Çocuk sağlığı ve hastalıkları; aşı takibi.",
    ),
    DemoDoctor(
        "doktor.noroloji@demo.medplatform.test",
        "Kerem",
        "Yıldız",
        "Prof. Dr.",
        "neurology",
        "DEMO-0004",
        ("kadikoy", "cankaya"),
        "Nöroloji; baş ağrısı ve uyku bozuklukları. İki klinikte muayene.",
    ),
]

PLATFORM_ADMIN = "admin@demo.medplatform.test"
CLINIC_ADMIN = "klinik.yonetici@demo.medplatform.test"
RECEPTIONIST = "resepsiyon@demo.medplatform.test"
PATIENTS = [
    ("ayse.hasta@demo.medplatform.test", "Ayşe", "Yılmaz", "+905320000101"),
    ("mehmet.hasta@demo.medplatform.test", "Mehmet", "Demir", "+905320000102"),
]


def _user(email: str, first_name: str, last_name: str, role: str, phone: str = "", **flags) -> User:
    """Create the demo user, or bring an existing one back to its demo state (password included)."""
    user = User.objects.filter(email=email).first() or User(email=email)
    user.first_name, user.last_name, user.role, user.phone = first_name, last_name, role, phone
    user.is_active = True
    for name, value in flags.items():
        setattr(user, name, value)
    user.password = _demo_password_hash()
    user.save()
    return user


@functools.cache
def _demo_password_hash() -> str:
    # One hash for all demo users: hashing is deliberately slow and the password is public anyway.
    return make_password(DEMO_PASSWORD)


class Command(BaseCommand):
    help = "Load idempotent demo data (clinics, doctors, staff, patients) with a demo-only password."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run with MEDPLATFORM_ENV=production (it sets known passwords).")
        verify_for_command()
        with transaction.atomic():
            rows, schedules = self._seed()
        self._print(rows, schedules)

    def _seed(self) -> tuple[list[tuple[str, str, str]], int]:
        rows: list[tuple[str, str, str]] = []
        _user(PLATFORM_ADMIN, "Platform", "Yöneticisi", User.Role.ADMIN, is_staff=True, is_superuser=True)
        rows.append(("platform admin", PLATFORM_ADMIN, "everything; /admin/"))

        clinics = {}
        for demo in CLINICS:
            clinic, _ = Clinic.objects.update_or_create(
                name=demo.name, defaults={"city": demo.city, "address": demo.address, "timezone": "Europe/Istanbul"}
            )
            clinics[demo.key] = clinic
        first_clinic = clinics[CLINICS[0].key]

        for email, role, label in [
            (CLINIC_ADMIN, ClinicMembership.Role.ADMIN, "clinic admin"),
            (RECEPTIONIST, ClinicMembership.Role.RECEPTIONIST, "receptionist"),
        ]:
            first, last = ("Deniz", "Kaya") if role == ClinicMembership.Role.ADMIN else ("Elif", "Şahin")
            user = _user(email, first, last, User.Role.CLINIC_STAFF)
            ClinicMembership.objects.update_or_create(user=user, clinic=first_clinic, defaults={"role": role})
            rows.append((label, email, first_clinic.name))

        schedules = 0
        for number, demo in enumerate(DOCTORS, start=1):
            user = _user(
                demo.email, demo.first_name, demo.last_name, User.Role.DOCTOR, phone=f"+9053200002{number:02d}"
            )
            doctor, _ = Doctor.objects.update_or_create(
                user=user,
                defaults={
                    "title": demo.title,
                    "specialty": Specialty.objects.get(slug=demo.specialty),
                    "registration_number": demo.registration_number,
                    "bio": demo.bio,
                    "is_active": True,
                },
            )
            doctor.clinics.set([clinics[key] for key in demo.clinics])
            rows.append(("doctor", demo.email, f"{doctor.name}, {demo.specialty}"))
            for key in demo.clinics:
                create_demo_schedule(doctor, clinics[key])
                schedules += 1

        for email, first, last, phone in PATIENTS:
            _user(email, first, last, User.Role.PATIENT, phone=phone)
            rows.append(("patient", email, f"{first} {last}"))
        return rows, schedules

    def _print(self, rows: list[tuple[str, str, str]], schedules: int) -> None:
        base = settings.PUBLIC_BASE_URL.rstrip("/")
        write = self.stdout.write
        write(self.style.SUCCESS("Demo data is ready (demo database only)."))
        write(f"Working hours loaded for {schedules} doctor/clinic pairs.")
        write(f"\nEvery demo account's password: {DEMO_PASSWORD}\n")
        width = max(len(email) for _, email, _ in rows)
        for role, email, note in rows:
            write(f"  {role:<15} {email:<{width}}  {note}")
        write("")
        write(f"  API docs:   {base}/api/docs/")
        write(f"  Admin:      {base}/admin/   (log in as {PLATFORM_ADMIN})")
        write(f"  Portal:     {base}/portal/")
        write(f"  API:        {base}/api/v1/...   (POST /api/v1/auth/token/ with an e-mail and the password above)")
