"""Input and output shapes of the waitlist. Times leave in the clinic's zone, with their offset."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appointments.models import VisitType
from medplatform.date_fields import ClinicDateTimeField, InRangeDateField
from waitlist.models import WaitlistEntry


def query_names(fields: dict) -> dict:
    """`from_` named `from` (a keyword in Python, a field in the API)."""
    return {("from" if name == "from_" else name): field for name, field in fields.items()}


class WaitlistJoinInput(serializers.Serializer):
    doctor = serializers.UUIDField()
    from_ = InRangeDateField(help_text="First local day (YYYY-MM-DD) the patient could come.")
    to = InRangeDateField(help_text="Last local day (YYYY-MM-DD), at most 90 days ahead.")
    patient = serializers.UUIDField(
        required=False, help_text="A dependant's id, when a guardian joins for them (GET /api/v1/me/dependants/)."
    )

    def get_fields(self):
        return query_names(super().get_fields())


class WaitlistClaimInput(serializers.Serializer):
    """A booking's body without `doctor` and `start` (and `clinic`): the offer names them."""

    visit_reason = serializers.CharField(max_length=1000)
    exam_type = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    visit_type = serializers.ChoiceField(choices=VisitType.choices, default=VisitType.IN_PERSON)


class WaitlistOfferOutput(serializers.Serializer):
    start = ClinicDateTimeField(timezone_from="clinic.timezone")
    end = ClinicDateTimeField(timezone_from="clinic.timezone")
    clinic = serializers.UUIDField(source="clinic_id")
    clinic_name = serializers.CharField(source="clinic.name")
    expires_at = ClinicDateTimeField(timezone_from="clinic.timezone")


class WaitlistEntryOutput(serializers.ModelSerializer):
    patient = serializers.UUIDField(source="patient_id", read_only=True)
    doctor = serializers.UUIDField(source="doctor_id", read_only=True)
    doctor_name = serializers.CharField(source="doctor.name", read_only=True)
    from_ = serializers.DateField(source="first_day", read_only=True)
    to = serializers.DateField(source="last_day", read_only=True)
    offer = serializers.SerializerMethodField()
    appointment = serializers.SerializerMethodField()
    created_at = ClinicDateTimeField(read_only=True)

    class Meta:
        model = WaitlistEntry
        fields = [
            "id",
            "patient",
            "doctor",
            "doctor_name",
            "from_",
            "to",
            "status",
            "offer",
            "appointment",
            "created_at",
        ]
        read_only_fields = fields

    def get_fields(self):
        return query_names(super().get_fields())

    def _offer(self, entry: WaitlistEntry, status: str):
        return next((offer for offer in getattr(entry, "shown_offers", ()) if offer.status == status), None)

    @extend_schema_field(WaitlistOfferOutput(allow_null=True))
    def get_offer(self, entry: WaitlistEntry) -> dict | None:
        """While the entry is offered: the slot held, and until when."""
        offer = self._offer(entry, "open") if entry.status == WaitlistEntry.Status.OFFERED else None
        return WaitlistOfferOutput(offer).data if offer is not None else None

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_appointment(self, entry: WaitlistEntry) -> str | None:
        """Once claimed: the appointment booked (GET /api/v1/appointments/{id}/)."""
        offer = self._offer(entry, "claimed") if entry.status == WaitlistEntry.Status.CLAIMED else None
        return str(offer.appointment_id) if offer is not None and offer.appointment_id else None
