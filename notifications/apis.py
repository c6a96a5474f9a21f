from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from medplatform.apiviews import paginated_response, validated
from medplatform.date_fields import ClinicDateTimeField
from medplatform.pagination import Pagination
from notifications import selectors, services
from notifications.models import Notification
from notifications.twilio_webhooks import twilio_form


class PreferencesOutput(serializers.Serializer):
    sms = serializers.BooleanField()
    whatsapp = serializers.BooleanField()
    email = serializers.BooleanField()
    push = serializers.BooleanField(help_text="Push notifications to the devices in /me/devices/.")
    marketing = serializers.BooleanField(help_text="Follows the marketing_messages consent; read-only.")


def _preferences_body(user) -> dict:
    preference = selectors.preferences_get(user=user)
    return PreferencesOutput(
        {
            "sms": preference.sms,
            "whatsapp": preference.whatsapp,
            "email": preference.email,
            "push": preference.push,
            "marketing": selectors.marketing_active(user=user),
        }
    ).data


class NotificationPreferencesApi(APIView):
    class Input(serializers.Serializer):
        sms = serializers.BooleanField(required=False)
        whatsapp = serializers.BooleanField(required=False)
        email = serializers.BooleanField(required=False)
        push = serializers.BooleanField(required=False)

    @extend_schema(responses={200: PreferencesOutput})
    def get(self, request):
        return Response(_preferences_body(request.user))

    @extend_schema(request=Input, responses={200: PreferencesOutput})
    def patch(self, request):
        data = validated(self.Input, request.data)
        services.preferences_update(user=request.user, **data)
        return Response(_preferences_body(request.user))


class NotificationListApi(APIView):
    pagination_class = Pagination

    class Output(serializers.ModelSerializer):
        created_at = ClinicDateTimeField()

        class Meta:
            model = Notification
            fields = ["id", "kind", "channel", "status", "created_at"]

    @extend_schema(responses={200: Output(many=True)})
    def get(self, request):
        return paginated_response(self, selectors.notification_list(viewer=request.user), self.Output)


class TwilioStatusCallbackApi(APIView):
    """Twilio's message status callback; only requests signed with our auth token are heard."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    parser_classes = [FormParser]

    @extend_schema(request=None, responses={204: None, 403: OpenApiResponse(description="bad signature")})
    def post(self, request):
        params = twilio_form(request, what="status callback")
        services.notification_apply_provider_status(
            provider_sid=params.get("MessageSid", "") or "",
            provider_status=params.get("MessageStatus", "") or "",
            notification_id=request.query_params.get("n"),
            error_code=params.get("ErrorCode", "") or "",
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
