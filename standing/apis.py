"""The no-show policy's endpoints (API.md, Appointments): the patient's standing and appeal, the
clinic staff's appeals and decisions. Thin: parse, call one selector or service, render."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsPatient, acting_patient
from medplatform.apiviews import validated
from medplatform.date_fields import ClinicDateTimeField
from medplatform.pagination import Pagination
from privacy.context import act_context
from standing import selectors, services
from standing.models import Appeal

REASON_MAX_LENGTH = 1000


class AppealOutput(serializers.ModelSerializer):
    """An appeal as its patient (or guardian) sees it. The reason is erased once decided."""

    strike = serializers.UUIDField(source="strike_id", read_only=True)
    created_at = ClinicDateTimeField(timezone_from="strike.clinic.timezone")
    decided_at = ClinicDateTimeField(timezone_from="strike.clinic.timezone", allow_null=True)

    class Meta:
        model = Appeal
        fields = ["id", "strike", "status", "reason", "created_at", "decided_at"]
        read_only_fields = fields


class StrikeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    appointment = serializers.UUIDField(source="appointment_id")
    appointment_start = ClinicDateTimeField(source="appointment.start", timezone_from="clinic.timezone")
    at = ClinicDateTimeField(timezone_from="clinic.timezone", help_text="when the no-show was recorded")
    counts = serializers.BooleanField(help_text="false once voided (an accepted appeal, a corrected visit)")
    appeal = serializers.SerializerMethodField(help_text="null until appealed")

    @extend_schema_field(AppealOutput(allow_null=True))
    def get_appeal(self, strike) -> dict | None:
        appeal = getattr(strike, "appeal", None)
        return None if appeal is None else AppealOutput(appeal).data


class ClinicStandingOutput(serializers.Serializer):
    clinic = serializers.UUIDField(source="clinic.id")
    clinic_name = serializers.CharField(source="clinic.name")
    blocked_until = ClinicDateTimeField(
        timezone_from="clinic.timezone", allow_null=True, help_text="online booking here opens again then"
    )
    strikes_to_block = serializers.IntegerField(help_text="counting strikes within 12 months that block")
    strikes = StrikeOutput(many=True, help_text="the last 12 months, newest first")


class StandingOutput(serializers.Serializer):
    patient = serializers.UUIDField(source="patient.id")
    blocked_until = ClinicDateTimeField(
        allow_null=True, help_text="the latest end of a block at any clinic (per clinic in `clinics`)"
    )
    clinics = ClinicStandingOutput(many=True)


class StandingApi(APIView):
    permission_classes = [IsAuthenticated, IsPatient]

    class Filters(serializers.Serializer):
        patient = serializers.UUIDField(required=False)

    @extend_schema(
        parameters=[OpenApiParameter("patient", str, description="a dependant's id (a guardian); default: me")],
        responses=StandingOutput,
    )
    def get(self, request):
        filters = validated(self.Filters, request.query_params)
        patient = acting_patient(request.user, filters.get("patient"))
        clinics = selectors.standing_of(patient=patient)
        blocks = [entry["blocked_until"] for entry in clinics if entry["blocked_until"] is not None]
        body = {"patient": patient, "blocked_until": max(blocks, default=None), "clinics": clinics}
        return Response(StandingOutput(body).data)


class StrikeAppealApi(APIView):
    permission_classes = [IsAuthenticated, IsPatient]

    class Input(serializers.Serializer):
        reason = serializers.CharField(max_length=REASON_MAX_LENGTH)

    @extend_schema(request=Input, responses={201: AppealOutput})
    def post(self, request, strike_id):
        data = validated(self.Input, request.data)
        appeal = services.appeal_create(
            actor=request.user, strike_id=strike_id, reason=data["reason"], context=act_context(request)
        )
        return Response(AppealOutput(appeal).data, status=status.HTTP_201_CREATED)


class StaffAppealOutput(serializers.ModelSerializer):
    """An appeal as the clinic's staff see it: the patient, the missed visit, the reason while
    pending (each shown reason is audited, standing.selectors.appeals_shown)."""

    strike = serializers.UUIDField(source="strike_id", read_only=True)
    clinic = serializers.UUIDField(source="strike.clinic_id", read_only=True)
    appointment = serializers.UUIDField(source="strike.appointment_id", read_only=True)
    appointment_start = ClinicDateTimeField(source="strike.appointment.start", timezone_from="strike.clinic.timezone")
    patient = serializers.UUIDField(source="patient_id", read_only=True)
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)
    created_at = ClinicDateTimeField(timezone_from="strike.clinic.timezone")
    decided_at = ClinicDateTimeField(timezone_from="strike.clinic.timezone", allow_null=True)

    class Meta:
        model = Appeal
        fields = [
            "id",
            "strike",
            "clinic",
            "appointment",
            "appointment_start",
            "patient",
            "patient_name",
            "status",
            "reason",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class AppealListApi(APIView):
    pagination_class = Pagination

    class Filters(serializers.Serializer):
        status = serializers.ChoiceField(choices=Appeal.Status.choices, required=False)

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=Appeal.Status.values)],
        responses=StaffAppealOutput(many=True),
    )
    def get(self, request):
        filters = validated(self.Filters, request.query_params)
        appeals = selectors.appeal_list(viewer=request.user, status=filters.get("status"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(appeals, request, view=self)
        page = selectors.appeals_shown(viewer=request.user, appeals=page, context=act_context(request))
        return paginator.get_paginated_response(StaffAppealOutput(page, many=True).data)


class _AppealDecisionApi(APIView):
    accept: bool

    @extend_schema(request=None, responses=StaffAppealOutput)
    def post(self, request, appeal_id):
        appeal = services.appeal_decide(
            actor=request.user, appeal_id=appeal_id, accept=self.accept, context=act_context(request)
        )
        return Response(StaffAppealOutput(appeal).data)


class AppealAcceptApi(_AppealDecisionApi):
    accept = True


class AppealRefuseApi(_AppealDecisionApi):
    accept = False
