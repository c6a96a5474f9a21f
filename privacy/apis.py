from typing import Literal

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Doctor
from accounts.permissions import IsPatient, acting_patient
from medplatform.apiviews import paginated_response, validated
from medplatform.date_fields import ClinicDateTimeField, InRangeDateTimeField
from medplatform.errors import ValidationFailed
from medplatform.pagination import Pagination
from privacy import retention, services, subject_rights
from privacy.context import act_context
from privacy.controller import controller_identity
from privacy.models import ConsentEvent, ConsentText, DataSubjectRequest, Purpose


class ControllerOutput(serializers.Serializer):
    """Who the data controller is and how to apply to it (KVKK Art. 10 and 13)."""

    name = serializers.CharField()
    address = serializers.CharField()
    email = serializers.EmailField()
    kep = serializers.CharField(help_text="registered electronic mail (KEP) address")
    how_to_apply = serializers.CharField(help_text="the application channels and the answer period (translated)")


class ConsentTextOutput(serializers.ModelSerializer):
    controller = serializers.SerializerMethodField()

    class Meta:
        model = ConsentText
        fields = ["purpose", "version", "language", "text", "content_hash", "controller"]

    @extend_schema_field(ControllerOutput)
    def get_controller(self, text: ConsentText) -> dict:
        return ControllerOutput(controller_identity()).data


class ConsentOutput(serializers.ModelSerializer):
    doctor = serializers.UUIDField(source="doctor_id", allow_null=True)
    # Who gave it: the patient, or a guardian acting for them (null on events from before guardians).
    actor = serializers.UUIDField(source="actor_id", allow_null=True)
    granted_at = ClinicDateTimeField(source="created_at")
    withdrawn_at = ClinicDateTimeField(source="withdrawal.created_at", allow_null=True)
    expires_at = ClinicDateTimeField(allow_null=True)
    ends = serializers.SerializerMethodField()
    ends_after_days = serializers.SerializerMethodField()
    # A JSON column: typed here so that the schema (and clients generated from it) know its shape.
    categories = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ConsentEvent
        fields = [
            "id",
            "purpose",
            "doctor",
            "actor",
            "categories",
            "expires_at",
            "ends",
            "ends_after_days",
            "granted_at",
            "withdrawn_at",
            "text_version",
            "text_language",
        ]

    def get_ends(self, grant: ConsentEvent) -> Literal["at_expiry", "after_last_visit"] | None:
        """Which end rule applies to a share: the chosen `expires_at`, or N days after the last visit."""
        if grant.purpose != Purpose.HEALTH_PROFILE_SHARE:
            return None
        return "at_expiry" if grant.expires_at is not None else "after_last_visit"

    def get_ends_after_days(self, grant: ConsentEvent) -> int | None:
        """For `after_last_visit`: how many days after the last visit with the doctor the share ends."""
        if self.get_ends(grant) != "after_last_visit":
            return None
        return settings.SHARE_DEFAULT_DAYS_AFTER_LAST_VISIT


class ConsentTextListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("purpose", str, enum=Purpose.values)], responses=ConsentTextOutput(many=True)
    )
    def get(self, request):
        purpose = request.query_params.get("purpose")
        purposes = [purpose] if purpose else Purpose.values
        if any(p not in Purpose.values for p in purposes):
            raise ValidationFailed(fields={"purpose": [_("Unknown purpose.")]})
        language = "en" if get_language() == "en" else "tr"
        texts = [
            services.consent_text_current(purpose=p, language=language)
            for p in purposes
            if services.current_version(p) is not None
        ]
        return Response(ConsentTextOutput(texts, many=True).data)


class ConsentListApi(APIView):
    pagination_class = Pagination
    permission_classes = [IsPatient]

    class Input(serializers.Serializer):
        purpose = serializers.ChoiceField(choices=Purpose.choices)
        text_version = serializers.IntegerField(min_value=1)
        doctor = serializers.PrimaryKeyRelatedField(queryset=Doctor.objects.filter(is_active=True), required=False)
        categories = serializers.ListField(child=serializers.CharField(max_length=30), required=False, max_length=10)
        expires_at = InRangeDateTimeField(required=False, allow_null=True)
        language = serializers.ChoiceField(choices=[("tr", "tr"), ("en", "en")], required=False)
        patient = serializers.UUIDField(required=False, help_text="A dependant's id, when a guardian gives it.")

    @extend_schema(
        parameters=[OpenApiParameter("patient", OpenApiTypes.UUID, description="a dependant's id (guardians)")],
        responses=ConsentOutput(many=True),
    )
    def get(self, request):
        subject = acting_patient(request.user, request.query_params.get("patient") or None)
        return paginated_response(self, services.consent_list(subject=subject), ConsentOutput)

    @extend_schema(
        request=Input,
        responses={201: ConsentOutput},
        examples=[
            OpenApiExample(
                "Consent to health data for appointments",
                value={"purpose": "appointment_health_data", "text_version": 1},
                request_only=True,
            ),
            OpenApiExample(
                "Share the health profile with a doctor",
                value={
                    "purpose": "health_profile_share",
                    "text_version": 1,
                    "doctor": "3f0c2f9e-6a4b-4d8e-9a57-3c1f1f6f2b10",
                    "categories": ["allergy", "medication"],
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request):
        data = validated(self.Input, request.data)
        grant = services.consent_grant(
            subject=acting_patient(request.user, data.get("patient")),
            actor=request.user,
            purpose=data["purpose"],
            text_version=data["text_version"],
            language=data.get("language") or ("en" if get_language() == "en" else "tr"),
            doctor=data.get("doctor"),
            categories=data.get("categories") or (),
            expires_at=data.get("expires_at"),
            context=act_context(request),
        )
        return Response(ConsentOutput(grant).data, status=status.HTTP_201_CREATED)


class ConsentWithdrawApi(APIView):
    permission_classes = [IsPatient]

    @extend_schema(request=None, responses=ConsentOutput)
    def post(self, request, consent_id):
        subject = services.consent_subject(actor=request.user, grant_id=consent_id)
        services.consent_withdraw(
            subject=subject, grant_id=consent_id, context=act_context(request), actor=request.user
        )
        grant = services.consent_list(subject=subject).get(id=consent_id)
        return Response(ConsentOutput(grant).data)


class PrivacyRequestOutput(serializers.ModelSerializer):
    created_at = ClinicDateTimeField()
    answered_at = ClinicDateTimeField(allow_null=True)

    class Meta:
        model = DataSubjectRequest
        fields = ["id", "type", "status", "due_date", "created_at", "answered_at"]


class PrivacyRequestApi(APIView):
    pagination_class = Pagination

    class Input(serializers.Serializer):
        type = serializers.ChoiceField(choices=DataSubjectRequest.Type.choices)
        details = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")

    @extend_schema(responses=PrivacyRequestOutput(many=True))
    def get(self, request):
        requests = DataSubjectRequest.objects.filter(subject=request.user)
        return paginated_response(self, requests, PrivacyRequestOutput)

    @extend_schema(request=Input, responses={201: PrivacyRequestOutput})
    def post(self, request):
        data = validated(self.Input, request.data)
        created = subject_rights.privacy_request_create(subject=request.user, **data)
        return Response(PrivacyRequestOutput(created).data, status=status.HTTP_201_CREATED)


class PrivacySummaryOutput(serializers.Serializer):
    user = serializers.UUIDField()
    controller = ControllerOutput()
    processing = serializers.ListField(child=serializers.DictField(), help_text="data, purpose, basis, recipients")
    consents = serializers.ListField(child=serializers.DictField())
    rights = serializers.CharField()


class PrivacySummaryApi(APIView):
    @extend_schema(responses=PrivacySummaryOutput)
    def get(self, request):
        return Response(subject_rights.privacy_summary(user=request.user))


class RetentionRowOutput(serializers.Serializer):
    rule = serializers.CharField(help_text="the rule's name in the destruction run's log")
    kind = serializers.CharField(help_text="the kind of personal data")
    period = serializers.CharField(help_text="how long it is kept (translated)")
    period_days = serializers.IntegerField(allow_null=True, help_text="null: kept until the event, no fixed period")
    period_setting = serializers.CharField(allow_null=True, help_text="the setting that holds the period")
    from_event = serializers.CharField(help_text="the event the period runs from (translated)")
    action = serializers.ChoiceField(choices=["destroy", "anonymise"])
    action_label = serializers.CharField(help_text="how it is destroyed (translated)")
    periodic = serializers.BooleanField(help_text="true: the daily destruction run applies it")


class RetentionTableApi(APIView):
    """The retention table of the privacy notice: every kind of personal data, how long it is
    kept, from which event and how it is destroyed (each app's privacy contract)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses=RetentionRowOutput(many=True))
    def get(self, request):
        return Response(RetentionRowOutput(retention.retention_table(), many=True).data)


class AccountEraseApi(APIView):
    class Input(serializers.Serializer):
        password = serializers.CharField(max_length=128)

    @extend_schema(
        request=Input,
        responses={202: inline_serializer("AccountErased", {"status": serializers.ChoiceField(choices=["erased"])})},
    )
    def post(self, request):
        data = validated(self.Input, request.data)
        subject_rights.account_erase(user=request.user, password=data["password"], context=act_context(request))
        return Response({"status": "erased"}, status=status.HTTP_202_ACCEPTED)
