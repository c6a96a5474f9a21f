"""Input and output shapes. Times leave in the clinic's zone, with their offset."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.permissions import guardian_of
from appointments import permissions
from appointments.models import Appointment, AppointmentStatusChange, Break, TimeOff, VisitType, WorkingHours
from medplatform.date_fields import ClinicDateTimeField, InRangeDateTimeField, check_year, clinic_time


def in_clinic_zone(instant, tz: str) -> str:
    return clinic_time(instant, tz)


class AwareDateTimeField(InRangeDateTimeField):
    """A time with its UTC offset, in the supported years; a bare local time is ambiguous and refused."""

    default_error_messages = {"naive": _("Give the time with its UTC offset, e.g. 2026-12-01T09:30:00+03:00.")}

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        check_year(value)
        return value


class SlotOutput(serializers.Serializer):
    start = ClinicDateTimeField(timezone_from="timezone")
    end = ClinicDateTimeField(timezone_from="timezone")
    clinic = serializers.UUIDField(source="clinic_id", read_only=True)
    visit_types = serializers.ListField(child=serializers.ChoiceField(choices=VisitType.choices), read_only=True)


class AppointmentOutput(serializers.ModelSerializer):
    """What a list shows. No visit reason here: it is special-category data, shown on the detail."""

    patient = serializers.UUIDField(source="patient_id", read_only=True)
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)
    doctor = serializers.UUIDField(source="doctor_id", read_only=True)
    doctor_name = serializers.CharField(source="doctor.name", read_only=True)
    clinic = serializers.UUIDField(source="clinic_id", read_only=True)
    clinic_name = serializers.CharField(source="clinic.name", read_only=True)
    start = ClinicDateTimeField(timezone_from="clinic.timezone")
    end = ClinicDateTimeField(timezone_from="clinic.timezone")
    meeting_url = serializers.SerializerMethodField()
    confirmation_due = ClinicDateTimeField(
        timezone_from="clinic.timezone",
        allow_null=True,
        help_text="When the visit is released unless confirmed; null when it needs no confirmation.",
    )
    confirmed_at = ClinicDateTimeField(timezone_from="clinic.timezone", allow_null=True)
    created_at = ClinicDateTimeField(timezone_from="clinic.timezone")
    updated_at = ClinicDateTimeField(timezone_from="clinic.timezone")

    class Meta:
        model = Appointment
        fields = [
            "id",
            "patient",
            "patient_name",
            "doctor",
            "doctor_name",
            "clinic",
            "clinic_name",
            "start",
            "end",
            "status",
            "visit_type",
            "meeting_url",
            "confirmation_due",
            "confirmed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_meeting_url(self, appointment: Appointment) -> str | None:
        viewer = self.context.get("viewer")
        if viewer is None or not permissions.can_see_meeting_url(viewer, appointment):
            return None
        return appointment.meeting_url


class StatusChangeOutput(serializers.ModelSerializer):
    previous_start = ClinicDateTimeField(timezone_from="appointment.clinic.timezone", allow_null=True)
    at = ClinicDateTimeField(timezone_from="appointment.clinic.timezone")

    class Meta:
        model = AppointmentStatusChange
        fields = ["from_status", "to_status", "actor_role", "reason", "previous_start", "at"]
        read_only_fields = fields


class ContactOutput(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()


class AppointmentDetailOutput(AppointmentOutput):
    """One appointment for its patient, its doctor or its clinic's staff (the only ones who get here)."""

    history = StatusChangeOutput(many=True, read_only=True)
    contact = serializers.SerializerMethodField()

    class Meta(AppointmentOutput.Meta):
        fields = [*AppointmentOutput.Meta.fields, "visit_reason", "exam_type", "history", "contact"]
        read_only_fields = fields

    @extend_schema_field(ContactOutput(allow_null=True))
    def get_contact(self, appointment: Appointment) -> dict | None:
        """For a dependant's visit, their guardian: the person the clinic talks to (null otherwise)."""
        guardian = guardian_of(appointment.patient)
        if guardian is None:
            return None
        return {"name": guardian.full_name, "phone": str(guardian.phone or ""), "email": guardian.email}


class BookInput(serializers.Serializer):
    doctor = serializers.UUIDField()
    start = AwareDateTimeField()
    visit_reason = serializers.CharField(max_length=1000)
    exam_type = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    visit_type = serializers.ChoiceField(choices=VisitType.choices, default=VisitType.IN_PERSON)
    patient = serializers.UUIDField(
        required=False, help_text="A dependant's id, when a guardian books for them (GET /api/v1/me/dependants/)."
    )
    clinic = serializers.UUIDField(
        required=False, help_text="The clinic of the slot; required when the doctor works at more than one clinic."
    )


class WorkingHoursOutput(serializers.ModelSerializer):
    doctor = serializers.UUIDField(source="doctor_id", read_only=True)
    clinic = serializers.UUIDField(source="clinic_id", read_only=True)
    visit_types = serializers.ListField(child=serializers.ChoiceField(choices=VisitType.choices), read_only=True)

    class Meta:
        model = WorkingHours
        fields = ["id", "doctor", "clinic", "weekday", "start_time", "end_time", "slot_minutes", "visit_types"]
        read_only_fields = fields


class WorkingHoursInput(serializers.Serializer):
    clinic = serializers.UUIDField()
    weekday = serializers.IntegerField(min_value=0, max_value=6)
    start_time = serializers.TimeField()
    end_time = serializers.TimeField()
    slot_minutes = serializers.IntegerField(min_value=5, max_value=240, default=30)
    visit_types = serializers.ListField(
        child=serializers.ChoiceField(choices=VisitType.choices), min_length=1, max_length=2, required=False
    )


class WorkingHoursPatch(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, required=False)
    start_time = serializers.TimeField(required=False)
    end_time = serializers.TimeField(required=False)
    slot_minutes = serializers.IntegerField(min_value=5, max_value=240, required=False)
    visit_types = serializers.ListField(
        child=serializers.ChoiceField(choices=VisitType.choices), min_length=1, max_length=2, required=False
    )


class BreakOutput(serializers.ModelSerializer):
    doctor = serializers.UUIDField(source="doctor_id", read_only=True)
    clinic = serializers.UUIDField(source="clinic_id", read_only=True)

    class Meta:
        model = Break
        fields = ["id", "doctor", "clinic", "weekday", "start_time", "end_time"]
        read_only_fields = fields


class BreakInput(serializers.Serializer):
    clinic = serializers.UUIDField()
    weekday = serializers.IntegerField(min_value=0, max_value=6)
    start_time = serializers.TimeField()
    end_time = serializers.TimeField()


class TimeOffOutput(serializers.ModelSerializer):
    doctor = serializers.UUIDField(source="doctor_id", read_only=True)
    # A doctor may work at several clinics: the default clinic zone.
    start = ClinicDateTimeField()
    end = ClinicDateTimeField()

    class Meta:
        model = TimeOff
        fields = ["id", "doctor", "start", "end", "reason"]
        read_only_fields = fields


class TimeOffInput(serializers.Serializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    cancel_appointments = serializers.BooleanField(default=False)
