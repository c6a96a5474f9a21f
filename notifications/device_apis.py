"""Push devices (API.md, Accounts: /me/devices/)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from medplatform.apiviews import paginated_response, validated
from medplatform.pagination import Pagination
from notifications import devices
from notifications.models import Device


class DeviceOutput(serializers.ModelSerializer):
    class Meta:
        model = Device
        # The token and keys are the device's; they are not shown back.
        fields = ["id", "platform", "created_at", "last_sent_at"]
        read_only_fields = fields


class DeviceListApi(APIView):
    pagination_class = Pagination

    class Input(serializers.Serializer):
        platform = serializers.ChoiceField(choices=Device.Platform.choices)
        token = serializers.CharField(
            max_length=1000, help_text="web: the push subscription's endpoint URL; android/ios: the app's token"
        )
        p256dh = serializers.CharField(
            max_length=200, required=False, allow_blank=True, default="", help_text="web: keys.p256dh"
        )
        auth = serializers.CharField(
            max_length=100, required=False, allow_blank=True, default="", help_text="web: keys.auth"
        )

    @extend_schema(responses=DeviceOutput(many=True))
    def get(self, request):
        return paginated_response(self, devices.device_list(user=request.user), DeviceOutput)

    @extend_schema(request=Input, responses={201: DeviceOutput})
    def post(self, request):
        data = validated(self.Input, request.data)
        device = devices.device_register(user=request.user, **data)
        return Response(DeviceOutput(device).data, status=status.HTTP_201_CREATED)


class DeviceDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, device_id):
        devices.device_delete(user=request.user, device_id=device_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
