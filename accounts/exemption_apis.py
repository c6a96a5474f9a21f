"""A clinic's exemptions (accounts.exemptions): patients whose visits are never released for want
of a confirmation and who get no no-show strikes there. Clinic staff and platform admins."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import exemptions
from accounts.models import Clinic, ClinicExemption
from medplatform.apiviews import paginated_response, validated
from medplatform.date_fields import ClinicDateTimeField
from medplatform.pagination import Pagination
from privacy.context import act_context


class ExemptionOutput(serializers.ModelSerializer):
    clinic = serializers.UUIDField(source="clinic_id", read_only=True)
    patient = serializers.UUIDField(source="patient_id", read_only=True)
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)
    marked_by = serializers.UUIDField(source="marked_by_id", read_only=True, allow_null=True)
    created_at = ClinicDateTimeField(timezone_from="clinic.timezone")

    class Meta:
        model = ClinicExemption
        fields = ["id", "clinic", "patient", "patient_name", "reason", "marked_by", "created_at"]
        read_only_fields = fields


class ClinicExemptionListApi(APIView):
    pagination_class = Pagination

    class Input(serializers.Serializer):
        patient = serializers.UUIDField()
        reason = serializers.ChoiceField(choices=ClinicExemption.Reason.choices)

    @extend_schema(responses=ExemptionOutput(many=True))
    def get(self, request, clinic_id):
        clinic = get_object_or_404(Clinic, id=clinic_id)
        return paginated_response(self, exemptions.exemption_list(viewer=request.user, clinic=clinic), ExemptionOutput)

    @extend_schema(request=Input, responses={201: ExemptionOutput})
    def post(self, request, clinic_id):
        clinic = get_object_or_404(Clinic, id=clinic_id)
        data = validated(self.Input, request.data)
        exemption = exemptions.exemption_mark(
            actor=request.user,
            clinic=clinic,
            patient_id=data["patient"],
            reason=data["reason"],
            context=act_context(request),
        )
        return Response(ExemptionOutput(exemption).data, status=status.HTTP_201_CREATED)


class ClinicExemptionDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, clinic_id, exemption_id):
        clinic = get_object_or_404(Clinic, id=clinic_id)
        exemptions.exemption_remove(
            actor=request.user, clinic=clinic, exemption_id=exemption_id, context=act_context(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
