"""Demo data for the embedded default: `manage.py seed_demo` (idempotent; `make run` calls it).

Every account is created with the same demo-only password, printed at the end. What exists is left
as it is: a rerun (every `make run`) creates only what is missing, so a password or a name changed
in the demo database survives, and when everything is there it costs a few queries and no password
hashing. Refused under MEDPLATFORM_ENV=production: known passwords never belong in a real database.
"""

import functools
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Clinic, ClinicMembership, Doctor, Specialty, User
from accounts.second_factor import totp_secret
from appointments.demo import create_demo_activity, create_demo_schedule
from appointments.models import Appointment
from privacy.startup import verify_for_command

DEMO_PASSWORD = "demo-only-Password-1"  # noqa: S105  (printed on purpose: demo database only)
# The demo staff's second factor: one known TOTP key (hex, as django-otp stores it) for every demo
# doctor, clinic staff member and admin, printed like the password. Demo database only.
DEMO_TOTP_KEY = "6d6564706c6174666f726d2d64656d6f2d6f6e6c79"  # noqa: S105  ("medplatform-demo-only")


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


def _user(email: str, first_name: str, last_name: str, role: str, phone: str = "", **flags) -> tuple[User, bool]:
    """The demo user: created with the demo password when missing, an existing one left untouched."""
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        return existing, False
    user = User(email=email, first_name=first_name, last_name=last_name, role=role, phone=phone, is_active=True)
    for name, value in flags.items():
        setattr(user, name, value)
    user.password = _demo_password_hash()
    user.save()
    return user, True


def _staff_emails() -> list[str]:
    return [PLATFORM_ADMIN, CLINIC_ADMIN, RECEPTIONIST, *(d.email for d in DOCTORS)]


def _all_there() -> bool:
    """Every demo account, second factor, clinic and doctor exists already (four queries)."""
    emails = [*_staff_emails(), *(p[0] for p in PATIENTS)]
    return (
        User.objects.filter(email__in=emails).count() == len(emails)
        and TOTPDevice.objects.filter(user__email__in=_staff_emails(), confirmed=True).values("user").distinct().count()
        == len(_staff_emails())
        and Clinic.objects.filter(name__in=[c.name for c in CLINICS]).count() == len(CLINICS)
        and Doctor.objects.filter(user__email__in=[d.email for d in DOCTORS]).count() == len(DOCTORS)
        and _agenda_is_full()
    )


# The doctor whose week the demo fills (appointments, a shared profile, a review): `make run` opens
# the portal on a full agenda. Kadıköy, where the demo clinic admin and receptionist work.
ACTIVE_DOCTOR = DOCTORS[1]


def _agenda_is_full() -> bool:
    """The active demo doctor has booked visits in the coming week (one query)."""
    now = timezone.now()
    return Appointment.objects.filter(
        doctor__user__email=ACTIVE_DOCTOR.email,
        status=Appointment.Status.BOOKED,
        start__gte=now,
        start__lt=now + timedelta(days=7),
    ).exists()


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
        if _all_there():
            self._print(self._rows(), None)
            return
        with transaction.atomic():
            self._seed()
        # Outside that transaction: booking and consent services own theirs (durable).
        create_demo_activity(
            doctor=Doctor.objects.get(user__email=ACTIVE_DOCTOR.email),
            patients=[User.objects.get(email=patient[0]) for patient in PATIENTS],
        )
        self._print(self._rows(), len([key for demo in DOCTORS for key in demo.clinics]))

    @staticmethod
    def _rows() -> list[tuple[str, str, str]]:
        clinic = CLINICS[0].name
        rows = [
            ("platform admin", PLATFORM_ADMIN, "everything; /admin/"),
            ("clinic admin", CLINIC_ADMIN, clinic),
            ("receptionist", RECEPTIONIST, clinic),
        ]
        rows += [
            ("doctor", demo.email, f"{demo.title} {demo.first_name} {demo.last_name}, {demo.specialty}")
            for demo in DOCTORS
        ]
        rows += [("patient", email, f"{first} {last}") for email, first, last, _ in PATIENTS]
        rows += [("", "", f"a week of appointments, a shared profile and a review: {ACTIVE_DOCTOR.email}")]
        return rows

    def _seed(self) -> None:
        """Create what is missing; leave what exists."""
        _user(PLATFORM_ADMIN, "Platform", "Yöneticisi", User.Role.ADMIN, is_staff=True, is_superuser=True)

        clinics = {}
        for demo in CLINICS:
            clinic, _ = Clinic.objects.get_or_create(
                name=demo.name, defaults={"city": demo.city, "address": demo.address, "timezone": "Europe/Istanbul"}
            )
            clinics[demo.key] = clinic
        first_clinic = clinics[CLINICS[0].key]

        for email, role, first, last in [
            (CLINIC_ADMIN, ClinicMembership.Role.ADMIN, "Deniz", "Kaya"),
            (RECEPTIONIST, ClinicMembership.Role.RECEPTIONIST, "Elif", "Şahin"),
        ]:
            user, _ = _user(email, first, last, User.Role.CLINIC_STAFF)
            ClinicMembership.objects.get_or_create(user=user, clinic=first_clinic, defaults={"role": role})

        for number, demo in enumerate(DOCTORS, start=1):
            user, _ = _user(
                demo.email, demo.first_name, demo.last_name, User.Role.DOCTOR, phone=f"+9053200002{number:02d}"
            )
            if Doctor.objects.filter(user=user).exists():
                continue
            doctor = Doctor.objects.create(
                user=user,
                title=demo.title,
                specialty=Specialty.objects.get(slug=demo.specialty),
                registration_number=demo.registration_number,
                bio=demo.bio,
                is_active=True,
            )
            doctor.clinics.set([clinics[key] for key in demo.clinics])
            for key in demo.clinics:
                create_demo_schedule(doctor, clinics[key])

        for email, first, last, phone in PATIENTS:
            _user(email, first, last, User.Role.PATIENT, phone=phone)

        # Staff give a second factor after the password: the demo ones share the printed demo key.
        for user in User.objects.filter(email__in=_staff_emails()).exclude(totpdevice__confirmed=True):
            TOTPDevice.objects.create(user=user, name="demo", key=DEMO_TOTP_KEY, confirmed=True)

    def _print(self, rows: list[tuple[str, str, str]], schedules: int | None) -> None:
        base = settings.PUBLIC_BASE_URL.rstrip("/")
        write = self.stdout.write
        if schedules is None:
            write(self.style.SUCCESS("Demo data is there already (demo database only): nothing changed."))
        else:
            write(self.style.SUCCESS("Demo data is ready (demo database only)."))
            write(f"Working hours loaded for {schedules} doctor/clinic pairs.")
        write(f"\nEvery demo account's password (unless changed since): {DEMO_PASSWORD}")
        demo_device = TOTPDevice(key=DEMO_TOTP_KEY, user=User(email="demo-staff"))
        write(
            "Doctors, clinic staff and the admin also give a code (second factor) from an authenticator\n"
            f"app holding the demo key {totp_secret(demo_device)} (demo database only; or open\n"
            f"  {demo_device.config_url}\n"
            "  on the phone; without an app: oathtool --totp -b KEY). A new staff member without a\n"
            "device is shown the enrolment page (key and recovery codes) after the portal login.\n"
        )
        width = max(len(email) for _, email, _ in rows)
        for role, email, note in rows:
            write(f"  {role:<15} {email:<{width}}  {note}")
        write("")
        write(f"  API docs:   {base}/api/docs/")
        write(f"  Admin:      {base}/admin/   (log in as {PLATFORM_ADMIN})")
        write(f"  Portal:     {base}/portal/")
        write(f"  API:        {base}/api/v1/...   (POST /api/v1/auth/token/: e-mail, password, and for staff otp)")
