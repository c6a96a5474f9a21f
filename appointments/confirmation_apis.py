"""Confirm or release (docs/confirmation.md): the patient's confirmation in the app, Twilio's
inbound-message webhook for replies to the SMS or WhatsApp message, and the clinic's list of
unclear replies to call back."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView
from twilio.twiml.messaging_response import MessagingResponse

from accounts.models import Clinic
from appointments import confirmation, selectors
from appointments.apis import _AppointmentActionApi
from appointments.models import UnclearReply
from appointments.serializers import AppointmentDetailOutput
from medplatform.apiviews import paginated_response, validated
from medplatform.date_fields import ClinicDateTimeField
from medplatform.pagination import Pagination
from notifications.messages import local_time
from notifications.twilio_webhooks import twilio_form


class AppointmentConfirmApi(_AppointmentActionApi):
    @extend_schema(request=None, responses=AppointmentDetailOutput)
    def post(self, request, appointment_id):
        appointment = selectors.appointment_get(viewer=request.user, appointment_id=appointment_id)
        appointment = confirmation.appointment_confirm(appointment=appointment, actor=request.user)
        return self.respond(request, appointment)


def _reply_text(outcome: confirmation.ReplyOutcome) -> str:
    """The answer to the sender, in their language: the visit's time and nothing else."""
    appointment = outcome.appointment
    language = outcome.sender.language if outcome.sender is not None else "tr"
    with translation.override(language):
        when = ""
        if appointment is not None:
            when = local_time(appointment.start.isoformat(), appointment.clinic.timezone, translation.get_language())
        texts = {
            "confirmed": _("Your appointment on %(when)s is confirmed. Medplatform"),
            "cancelled": _("Your appointment on %(when)s is cancelled. Medplatform"),
            "too_late": _("It is too late to cancel your appointment on %(when)s by message: please call the clinic."),
            "unclear": _(
                "We could not understand your reply. Reply E to confirm or H to cancel your appointment on "
                "%(when)s, or use the app. Medplatform"
            ),
            "nothing": _("You have no appointment waiting for confirmation. Medplatform"),
            "unknown": _("Please use the Medplatform app to manage your appointments."),
        }
        return texts[outcome.result] % {"when": when}


class TwilioInboundApi(APIView):
    """Twilio's inbound-message webhook: a reply to a confirmation request by SMS or WhatsApp.
    Only requests signed with our auth token are heard; the answer is TwiML with one message."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    parser_classes = [FormParser]

    class Input(serializers.Serializer):
        From = serializers.CharField(max_length=64)  # noqa: N815 - Twilio's field names
        Body = serializers.CharField(max_length=1600, allow_blank=True, trim_whitespace=True)  # noqa: N815

    @extend_schema(
        request={"application/x-www-form-urlencoded": Input},
        responses={
            (200, "text/xml"): OpenApiResponse(OpenApiTypes.STR, description="TwiML: the answer to the sender"),
            403: OpenApiResponse(description="bad signature"),
        },
    )
    def post(self, request):
        twilio_form(request, what="inbound message")
        data = validated(self.Input, request.POST)
        sender, _colon, phone = data["From"].rpartition(":")
        channel = UnclearReply.Channel.WHATSAPP if sender == "whatsapp" else UnclearReply.Channel.SMS
        outcome = confirmation.appointment_reply(phone=phone.strip(), body=data["Body"], channel=channel)
        twiml = MessagingResponse()
        twiml.message(_reply_text(outcome))
        return HttpResponse(str(twiml), content_type="text/xml; charset=utf-8")


class UnclearReplyOutput(serializers.ModelSerializer):
    appointment = serializers.UUIDField(source="appointment_id", read_only=True)
    start = ClinicDateTimeField(source="appointment.start", timezone_from="clinic.timezone")
    patient = serializers.UUIDField(source="appointment.patient_id", read_only=True)
    patient_name = serializers.CharField(source="appointment.patient.full_name", read_only=True)
    sender = serializers.UUIDField(source="sender_id", read_only=True)
    created_at = ClinicDateTimeField(timezone_from="clinic.timezone")

    class Meta:
        model = UnclearReply
        fields = ["id", "appointment", "start", "patient", "patient_name", "sender", "channel", "created_at"]
        read_only_fields = fields


class ClinicUnclearReplyListApi(APIView):
    """Replies to a confirmation request that were neither yes nor no: the clinic calls back."""

    pagination_class = Pagination

    @extend_schema(responses=UnclearReplyOutput(many=True))
    def get(self, request, clinic_id):
        clinic = get_object_or_404(Clinic, id=clinic_id)
        replies = confirmation.unclear_reply_list(viewer=request.user, clinic=clinic)
        return paginated_response(self, replies, UnclearReplyOutput)
