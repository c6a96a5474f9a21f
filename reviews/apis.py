from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Doctor
from medplatform.apiviews import paginated_response, validated
from medplatform.date_fields import ClinicDateTimeField
from medplatform.pagination import Pagination
from reviews import selectors, services
from reviews.models import (
    COMMENT_MAX_LENGTH,
    REPLY_MAX_LENGTH,
    REPORT_REASON_MAX_LENGTH,
    Display,
    Review,
    ReviewReply,
)


class ReplyOutput(serializers.ModelSerializer):
    created_at = ClinicDateTimeField()

    class Meta:
        model = ReviewReply
        fields = ["text", "created_at"]


class PublicReviewOutput(serializers.ModelSerializer):
    """What anyone sees: no patient id, no appointment id; comment text exactly as written."""

    display_name = serializers.CharField()
    created_at = ClinicDateTimeField()
    reply = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = ["id", "rating", "comment", "display_name", "created_at", "reply"]

    def get_reply(self, review: Review) -> dict | None:
        reply = getattr(review, "reply", None)
        return ReplyOutput(reply).data if reply is not None else None


class OwnReviewOutput(PublicReviewOutput):
    doctor = serializers.UUIDField(source="doctor_id")
    doctor_name = serializers.CharField(source="doctor.name")
    appointment = serializers.UUIDField(source="appointment_id")
    published = serializers.BooleanField(source="is_published")
    hidden = serializers.BooleanField(source="is_hidden")

    class Meta(PublicReviewOutput.Meta):
        fields = [
            *PublicReviewOutput.Meta.fields,
            "display",
            "doctor",
            "doctor_name",
            "appointment",
            "published",
            "hidden",
        ]


class AppointmentReviewApi(APIView):
    @extend_schema_serializer(component_name="ReviewCreateInput")
    class Input(serializers.Serializer):
        rating = serializers.IntegerField(min_value=1, max_value=5)
        comment = serializers.CharField(
            max_length=COMMENT_MAX_LENGTH, required=False, allow_blank=True, default="", trim_whitespace=False
        )
        display = serializers.ChoiceField(choices=Display.choices, default=Display.INITIALS)
        publish = serializers.BooleanField(default=False)

    @extend_schema(request=Input, responses={201: OwnReviewOutput})
    def post(self, request, appointment_id):
        data = validated(self.Input, request.data)
        review = services.review_create(patient=request.user, appointment_id=appointment_id, **data)
        review = selectors.review_list_for_patient(patient=request.user).get(pk=review.pk)
        return Response(OwnReviewOutput(review).data, status=status.HTTP_201_CREATED)


class DoctorReviewListApi(APIView):
    pagination_class = Pagination
    permission_classes = [AllowAny]

    @extend_schema(responses=PublicReviewOutput(many=True))
    def get(self, request, doctor_id):
        doctor = get_object_or_404(Doctor.objects.filter(is_active=True), pk=doctor_id)
        return paginated_response(self, selectors.review_public_list(doctor=doctor), PublicReviewOutput)


class MyReviewListApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses=OwnReviewOutput(many=True))
    def get(self, request):
        return paginated_response(self, selectors.review_list_for_patient(patient=request.user), OwnReviewOutput)


class ReviewReplyApi(APIView):
    @extend_schema_serializer(component_name="ReviewReplyInput")
    class Input(serializers.Serializer):
        text = serializers.CharField(max_length=REPLY_MAX_LENGTH, trim_whitespace=False)

    @extend_schema(request=Input, responses={201: ReplyOutput})
    def post(self, request, review_id):
        data = validated(self.Input, request.data)
        reply = services.review_reply(doctor_user=request.user, review_id=review_id, text=data["text"])
        return Response(ReplyOutput(reply).data, status=status.HTTP_201_CREATED)


class ReviewReportApi(APIView):
    @extend_schema_serializer(component_name="ReviewReportInput")
    class Input(serializers.Serializer):
        reason = serializers.CharField(
            max_length=REPORT_REASON_MAX_LENGTH, required=False, allow_blank=True, default=""
        )

    @extend_schema(
        request=Input,
        responses={202: inline_serializer("ReviewReported", {"status": serializers.ChoiceField(choices=["reported"])})},
    )
    def post(self, request, review_id):
        data = validated(self.Input, request.data)
        services.review_report(reporter=request.user, review_id=review_id, reason=data["reason"])
        return Response({"status": "reported"}, status=status.HTTP_202_ACCEPTED)
