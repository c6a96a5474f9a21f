import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Clinic, ClinicMembership, Doctor, Specialty, User

TEST_PASSWORD = "test-only-Correct-Horse-42"
# Hashing once keeps test set-up fast; every factory user shares this test-only password.
_TEST_PASSWORD_HASH = make_password(TEST_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = factory.Faker("first_name", locale="tr_TR")
    last_name = factory.Faker("last_name", locale="tr_TR")
    phone = factory.Sequence(lambda n: f"+9053{n:08d}")
    language = "tr"
    role = User.Role.PATIENT
    password = _TEST_PASSWORD_HASH


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Klinik {n}")
    city = "İstanbul"
    address = factory.Sequence(lambda n: f"Cadde {n}, Kadıköy")
    timezone = "Europe/Istanbul"


def specialty(slug: str = "cardiology") -> Specialty:
    return Specialty.objects.get(slug=slug)


class DoctorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Doctor
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role=User.Role.DOCTOR)
    title = "Dr."
    specialty = factory.LazyFunction(specialty)
    registration_number = factory.Sequence(lambda n: f"REG-{n:06d}")

    @factory.post_generation
    def clinics(self, create, extracted, **kwargs):
        if create and extracted:
            self.clinics.add(*extracted)


def clinic_member(clinic: Clinic, role: str, **user_fields) -> User:
    user = UserFactory(role=User.Role.CLINIC_STAFF, **user_fields)
    ClinicMembership.objects.create(user=user, clinic=clinic, role=role)
    return user
