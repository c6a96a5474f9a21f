"""Health-profile endpoints: the patient's own profile, the doctor's shared view, the access log."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsDoctor, IsPatient, acting_patient
from health_profiles import selectors, services
from health_profiles.models import Category, Severity, ShareGrant
from health_profiles.serializers import EntryOutput, grouped_output
from medplatform.apiviews import paginated_response, validated
from medplatform.date_fields import ClinicDateTimeField, InRangeDateField, clinic_time
from medplatform.errors import NotFound, ValidationFailed
from medplatform.pagination import Pagination
from privacy.context import act_context
from privacy.models import AuditEntry
from privacy.selectors import audit_list_for_patient

# Choice errors that would repeat the submitted value say only that it is not a choice.
NO_ECHO = {"invalid_choice": _("Not a valid choice.")}


class EntryInput(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices, error_messages=NO_ECHO)
    name = serializers.CharField(max_length=200)
    details = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    reaction = serializers.CharField(max_length=500, required=False, allow_blank=True, allow_null=True)
    severity = serializers.ChoiceField(
        choices=Severity.choices, required=False, allow_null=True, allow_blank=True, error_messages=NO_ECHO
    )
    dose = serializers.CharField(max_length=100, required=False, allow_blank=True, allow_null=True)
    frequency = serializers.CharField(max_length=100, required=False, allow_blank=True, allow_null=True)
    diagnosed_on = InRangeDateField(required=False, allow_null=True)
    started_on = InRangeDateField(required=False, allow_null=True)
    ended_on = InRangeDateField(required=False, allow_null=True)


class EntryCreateInput(EntryInput):
    patient = serializers.UUIDField(required=False, help_text="A dependant's id, when a guardian keeps their profile.")


PATIENT_PARAMETER = OpenApiParameter("patient", OpenApiTypes.UUID, description="a dependant's id (guardians)")


def _patient_entries(request):
    """The entries of the patient the request is for: the user's own, or a dependant's (`?patient=`)."""
    patient = acting_patient(request.user, request.query_params.get("patient") or None)
    return selectors.entry_list_for(actor=request.user, patient=patient, context=act_context(request))


class EntryPatchInput(EntryInput):
    category = serializers.ChoiceField(choices=Category.choices, required=False, error_messages=NO_ECHO)
    name = serializers.CharField(max_length=200, required=False)


GroupedProfileOutput = inline_serializer(
    name="GroupedProfile",
    fields={
        "allergies": EntryOutput(many=True),
        "medications": EntryOutput(many=True),
        "conditions": EntryOutput(many=True),
        "treatments": EntryOutput(many=True),
    },
)


class HealthProfileApi(APIView):
    permission_classes = [IsPatient]

    @extend_schema(parameters=[PATIENT_PARAMETER], responses=GroupedProfileOutput)
    def get(self, request):
        return Response(grouped_output(selectors.grouped(_patient_entries(request))))


class EntryListApi(APIView):
    pagination_class = Pagination
    permission_classes = [IsPatient]

    @extend_schema(parameters=[PATIENT_PARAMETER], responses=EntryOutput(many=True))
    def get(self, request):
        return paginated_response(self, _patient_entries(request), EntryOutput)

    @extend_schema(request=EntryCreateInput, responses={201: EntryOutput})
    def post(self, request):
        data = validated(EntryCreateInput, request.data)
        category = data.pop("category")
        patient = acting_patient(request.user, data.pop("patient", None))
        entry = services.entry_create(patient=patient, actor=request.user, category=category, values=data)
        return Response(EntryOutput(entry).data, status=status.HTTP_201_CREATED)


class EntryDetailApi(APIView):
    permission_classes = [IsPatient]

    def _entry(self, request, entry_id):
        entry = selectors.entry_get(actor=request.user, entry_id=entry_id, context=act_context(request))
        if entry is None:
            raise NotFound()
        return entry

    @extend_schema(responses=EntryOutput)
    def get(self, request, entry_id):
        return Response(EntryOutput(self._entry(request, entry_id)).data)

    @extend_schema(request=EntryPatchInput, responses=EntryOutput)
    def patch(self, request, entry_id):
        entry = self._entry(request, entry_id)
        data = validated(EntryPatchInput, request.data, partial=True)
        entry = services.entry_update(entry=entry, values=data)
        return Response(EntryOutput(entry).data)

    @extend_schema(responses={204: None})
    def delete(self, request, entry_id):
        services.entry_delete(entry=self._entry(request, entry_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccessLogOutput(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    at = ClinicDateTimeField()
    actor_doctor = serializers.SerializerMethodField()
    # A JSON column: typed here so that the schema (and clients generated from it) know its shape.
    categories = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = AuditEntry
        fields = ["actor", "actor_doctor", "actor_role", "action", "categories", "at"]

    def get_actor(self, entry: AuditEntry) -> str | None:
        """The doctor's name with title, or the person's name; None for the platform itself."""
        if entry.actor is None:
            return None
        doctor = getattr(entry.actor, "doctor", None)
        return doctor.name if doctor is not None else entry.actor.full_name

    def get_actor_doctor(self, entry: AuditEntry) -> str | None:
        """The doctor id (as /api/v1/doctors/ shows it) when the actor is a doctor."""
        doctor = getattr(entry.actor, "doctor", None) if entry.actor is not None else None
        return str(doctor.id) if doctor is not None else None


class AccessLogApi(APIView):
    pagination_class = Pagination
    permission_classes = [IsPatient]

    @extend_schema(responses=AccessLogOutput(many=True))
    def get(self, request):
        return paginated_response(self, audit_list_for_patient(patient=request.user), AccessLogOutput)


class FhirJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


class ExportFormatNegotiation(DefaultContentNegotiation):
    """`?format=` names the export format (json or fhir); without it FHIR's own `_format`
    (json, application/json, application/fhir+json, fhir) or `Accept: application/fhir+json`
    chooses FHIR; JSON otherwise. An unknown value of either parameter is a validation error."""

    FHIR_FORMATS = {"json", "application/json", "application/fhir+json", "fhir"}

    def select_renderer(self, request, renderers, format_suffix=None):
        by_format = {renderer.format: renderer for renderer in renderers}
        params = request.query_params
        if "format" in params:
            renderer = by_format.get(params["format"])
            if renderer is None:
                raise ValidationFailed(fields={"format": [_("Use json or fhir.")]})
        elif "_format" in params:
            if params["_format"] not in self.FHIR_FORMATS:
                raise ValidationFailed(fields={"_format": [_("Use json or application/fhir+json.")]})
            renderer = by_format["fhir"]
        elif self._accepts_fhir(request):
            renderer = by_format["fhir"]
        else:
            renderer = by_format["json"]
        return renderer, renderer.media_type

    @staticmethod
    def _accepts_fhir(request) -> bool:
        for item in request.META.get("HTTP_ACCEPT", "").split(","):
            media_type, *parameters = (part.strip() for part in item.split(";"))
            weights = [parameter.split("=", 1)[1] for parameter in parameters if parameter.startswith("q=")]
            try:
                refused = bool(weights) and float(weights[0]) == 0
            except ValueError:
                refused = False
            if media_type.lower() == FhirJSONRenderer.media_type and not refused:
                return True
        return False


JSON_EXPORT_SCHEMA = {
    "type": "object",
    "description": "The data-subject access export: every part of the platform's section about the user.",
    "required": ["exported_at"],
    "properties": {"exported_at": {"type": "string", "format": "date-time"}},
    "additionalProperties": {"description": "One section per part of the platform (privacy contract)."},
}
FHIR_RESOURCE_TYPES = [
    "Patient",
    "AllergyIntolerance",
    "MedicationStatement",
    "Condition",
    "Procedure",
    "Appointment",
    "Practitioner",
    "Location",
    "Organization",
]
FHIR_BUNDLE_SCHEMA = {
    "type": "object",
    "description": "A FHIR R4 (4.0.1) Bundle; each resource is valid R4 (docs/fhir.md).",
    "required": ["resourceType", "type", "entry"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "type": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "entry": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["resource"],
                "properties": {
                    "fullUrl": {"type": "string"},
                    "resource": {
                        "type": "object",
                        "required": ["resourceType"],
                        "properties": {"resourceType": {"type": "string", "enum": FHIR_RESOURCE_TYPES}},
                    },
                },
            },
        },
    },
}


class ExportApi(APIView):
    permission_classes = [IsPatient]
    renderer_classes = [JSONRenderer, FhirJSONRenderer]
    content_negotiation_class = ExportFormatNegotiation

    @extend_schema(
        parameters=[
            # Each enum carries its own title: generated clients name an inline enum after the
            # operation and the parameter, and `format` and `_format` would both become `...Format`
            # (openapi-python-client then leaves the whole operation out).
            OpenApiParameter("format", {"type": "string", "enum": ["fhir", "json"], "title": "ExportFormat"}),
            OpenApiParameter(
                "_format",
                {"type": "string", "enum": sorted(ExportFormatNegotiation.FHIR_FORMATS), "title": "FhirFormat"},
                description="FHIR's own format parameter: any of these values chooses the FHIR R4 Bundle.",
            ),
        ],
        responses={(200, "application/json"): JSON_EXPORT_SCHEMA, (200, "application/fhir+json"): FHIR_BUNDLE_SCHEMA},
    )
    def get(self, request):
        document = services.profile_export(
            patient=request.user,
            export_format=request.accepted_renderer.format,
            context=act_context(request),
        )
        return Response(document)


class SharedProfileOutput(serializers.ModelSerializer):
    patient = serializers.UUIDField(source="patient_id")
    name = serializers.CharField(source="patient.full_name")
    categories = serializers.ListField(source="effective_categories", child=serializers.CharField())
    # The effective end: the chosen expiry, or the one computed from the last visit (selectors).
    expires_at = ClinicDateTimeField(source="ends_at")

    class Meta:
        model = ShareGrant
        fields = ["patient", "name", "categories", "expires_at"]


class SharedProfileListApi(APIView):
    pagination_class = Pagination
    permission_classes = [IsDoctor]

    @extend_schema(responses=SharedProfileOutput(many=True))
    def get(self, request):
        return paginated_response(self, selectors.shared_profile_list(viewer=request.user), SharedProfileOutput)


class PatientHealthProfileApi(APIView):
    """A doctor's read of a patient's shared categories; anyone without an active share gets 404."""

    @extend_schema(
        responses=inline_serializer(
            name="SharedHealthProfile",
            fields={
                "patient": serializers.UUIDField(),
                "categories": serializers.ListField(child=serializers.CharField()),
                "expires_at": ClinicDateTimeField(),
                "allergies": EntryOutput(many=True, required=False),
                "medications": EntryOutput(many=True, required=False),
                "conditions": EntryOutput(many=True, required=False),
                "treatments": EntryOutput(many=True, required=False),
            },
        )
    )
    def get(self, request, patient_id):
        share, entries = services.shared_profile_read(
            viewer=request.user, patient_id=patient_id, context=act_context(request)
        )
        shown = {selectors.CATEGORY_GROUPS[category] for category in share.effective_categories}
        render = EntryOutput().to_representation  # one serializer for every entry (not one list per group)
        profile = {
            group: [render(entry) for entry in items]
            for group, items in selectors.grouped(entries).items()
            if group in shown
        }
        return Response(
            {
                "patient": str(share.patient_id),
                "categories": share.effective_categories,
                "expires_at": clinic_time(share.ends_at),
                **profile,
            }
        )
