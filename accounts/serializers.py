from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from accounts.models import Clinic, ClinicInvitation, ClinicMembership, Doctor, Specialty, User
from medplatform.date_fields import ClinicDateTimeField, clinic_time


class UserOutput(serializers.ModelSerializer):
    national_id = serializers.CharField(source="masked_national_id", read_only=True, allow_null=True)
    phone = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "language",
            "role",
            "national_id",
            "birth_date",
            "email_verified",
            "phone_verified",
        ]
        read_only_fields = fields


class SpecialtyOutput(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = Specialty
        fields = ["id", "slug", "name", "name_tr", "name_en"]

    def get_name(self, specialty: Specialty) -> str:
        return specialty.name_en if get_language() == "en" else specialty.name_tr


class ClinicOutput(serializers.ModelSerializer):
    class Meta:
        model = Clinic
        fields = [
            "id",
            "name",
            "city",
            "address",
            "timezone",
            "min_notice_minutes",
            "horizon_days",
            "requires_confirmation",
            "confirmation_hour",
        ]
        read_only_fields = fields


class ClinicInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    city = serializers.CharField(max_length=100)
    address = serializers.CharField(max_length=500)
    timezone = serializers.CharField(max_length=64, default="Europe/Istanbul")


class StaffInput(serializers.Serializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    phone = PhoneNumberField(required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=ClinicMembership.Role.choices)


class StaffOutput(serializers.ModelSerializer):
    user = serializers.UUIDField(source="user.id")
    email = serializers.EmailField(source="user.email")
    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")
    clinic = serializers.UUIDField(source="clinic.id")

    class Meta:
        model = ClinicMembership
        fields = ["user", "email", "first_name", "last_name", "clinic", "role"]


@extend_schema_field(OpenApiTypes.STR)
class SpecialtyField(serializers.Field):
    """Accepts a specialty's slug or id."""

    default_error_messages = {"unknown": _("Unknown specialty.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("unknown")
        specialty = Specialty.objects.filter(slug=data).first()
        if specialty is None:
            try:
                specialty = Specialty.objects.filter(id=data).first()
            except Exception:  # not a UUID
                specialty = None
        if specialty is None:
            self.fail("unknown")
        return specialty

    def to_representation(self, value):
        return value.slug


class DoctorInput(serializers.Serializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    phone = PhoneNumberField(required=False, allow_blank=True, default="")
    specialty = SpecialtyField()
    registration_number = serializers.CharField(max_length=50)
    title = serializers.CharField(max_length=50, required=False, default="", allow_blank=True)
    bio = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)
    education = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)


class DoctorClinicOutput(serializers.Serializer):
    """One clinic a doctor works at, as doctor search lists them."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    city = serializers.CharField()


class DoctorListOutput(serializers.ModelSerializer):
    """One row of doctor search; everything comes from the prefetched queryset."""

    name = serializers.CharField()
    specialty = serializers.CharField(source="specialty.slug")
    specialty_name = serializers.SerializerMethodField()
    clinic = serializers.SerializerMethodField()
    clinic_name = serializers.SerializerMethodField()
    city = serializers.SerializerMethodField()
    clinics = serializers.SerializerMethodField()
    rating_avg = serializers.FloatField(allow_null=True)
    rating_count = serializers.IntegerField()
    next_available = serializers.SerializerMethodField()

    class Meta:
        model = Doctor
        fields = [
            "id",
            "name",
            "title",
            "specialty",
            "specialty_name",
            "clinic",
            "clinic_name",
            "city",
            "clinics",
            "rating_avg",
            "rating_count",
            "next_available",
        ]

    def _first_clinic(self, doctor: Doctor) -> Clinic | None:
        clinics = list(doctor.clinics.all())
        return clinics[0] if clinics else None

    def get_specialty_name(self, doctor: Doctor) -> str:
        return SpecialtyOutput().get_name(doctor.specialty)

    @extend_schema_field({"type": "string", "format": "uuid", "nullable": True})
    def get_clinic(self, doctor: Doctor) -> str | None:
        clinic = self._first_clinic(doctor)
        return str(clinic.id) if clinic else None

    def get_clinic_name(self, doctor: Doctor) -> str | None:
        clinic = self._first_clinic(doctor)
        return clinic.name if clinic else None

    def get_city(self, doctor: Doctor) -> str | None:
        clinic = self._first_clinic(doctor)
        return clinic.city if clinic else None

    @extend_schema_field(DoctorClinicOutput(many=True))
    def get_clinics(self, doctor: Doctor) -> list[dict]:
        return [{"id": str(c.id), "name": c.name, "city": c.city} for c in doctor.clinics.all()]

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_next_available(self, doctor: Doctor) -> str | None:
        next_available = self.context.get("next_available", {}).get(doctor.id)
        if not next_available:
            return None
        clinic = self._first_clinic(doctor)
        return clinic_time(next_available, clinic.timezone if clinic else None)


def doctor_list_rows(doctors, next_available: dict) -> list[dict]:
    """DoctorListOutput(doctors, many=True, context={"next_available": ...}).data, built by hand:
    the same dicts (tests/accounts/test_doctor_list_rows.py compares them) without DRF's field
    copies and lookups per row, for doctor search's hot path. DoctorListOutput stays the schema."""
    english = get_language() == "en"
    rows = []
    for doctor in doctors:
        clinics = list(doctor.clinics.all())
        first = clinics[0] if clinics else None
        soonest = next_available.get(doctor.id)
        rows.append(
            {
                "id": str(doctor.id),
                "name": doctor.name,
                "title": doctor.title,
                "specialty": doctor.specialty.slug,
                "specialty_name": doctor.specialty.name_en if english else doctor.specialty.name_tr,
                "clinic": str(first.id) if first else None,
                "clinic_name": first.name if first else None,
                "city": first.city if first else None,
                "clinics": [{"id": str(c.id), "name": c.name, "city": c.city} for c in clinics],
                "rating_avg": None if doctor.rating_avg is None else float(doctor.rating_avg),
                "rating_count": int(doctor.rating_count),
                "next_available": clinic_time(soonest, first.timezone if first else None) if soonest else None,
            }
        )
    return rows


class DoctorDetailOutput(DoctorListOutput):
    class Meta(DoctorListOutput.Meta):
        fields = [*DoctorListOutput.Meta.fields, "registration_number", "education", "bio", "photo"]


class ClinicInvitationOutput(serializers.ModelSerializer):
    """An invitation to work at a clinic: what the invited person sees, and what the inviting
    clinic's admin gets back (nothing of the person beyond what the admin typed)."""

    clinic = serializers.UUIDField(source="clinic_id", read_only=True)
    clinic_name = serializers.CharField(source="clinic.name", read_only=True)
    created_at = ClinicDateTimeField(timezone_from="clinic.timezone")
    responded_at = ClinicDateTimeField(timezone_from="clinic.timezone", allow_null=True)

    class Meta:
        model = ClinicInvitation
        fields = ["id", "clinic", "clinic_name", "kind", "staff_role", "status", "created_at", "responded_at"]
        read_only_fields = fields


class InvitationCreatedOutput(serializers.Serializer):
    """202: the person already has an account; nothing is linked until they accept."""

    invitation = ClinicInvitationOutput()
