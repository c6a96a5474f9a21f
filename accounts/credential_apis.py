"""Contact verification, password reset and password change (API.md, Accounts)."""

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import credentials, verification
from accounts.models import ContactVerification
from accounts.recovery_throttles import (
    PasswordChangeIpThrottle,
    PasswordChangeUserThrottle,
    PasswordResetAccountThrottle,
    PasswordResetConfirmAccountThrottle,
    PasswordResetConfirmIpThrottle,
    PasswordResetIpThrottle,
    VerifySendDestinationThrottle,
    VerifySendIpThrottle,
    VerifySendUserThrottle,
)
from accounts.serializers import UserOutput
from accounts.tasks import send_password_reset
from medplatform.apiviews import validated
from medplatform.errors import ValidationFailed


class AcceptedOutput(serializers.Serializer):
    status = serializers.CharField()


ACCEPTED = {"status": "accepted"}


class VerifyStartApi(APIView):
    throttle_classes = [VerifySendUserThrottle, VerifySendDestinationThrottle, VerifySendIpThrottle]

    class Input(serializers.Serializer):
        channel = serializers.ChoiceField(choices=ContactVerification.Channel.choices)

    @extend_schema(request=Input, responses={202: AcceptedOutput})
    def post(self, request):
        data = validated(self.Input, request.data)
        verification.contact_verification_start(user=request.user, channel=data["channel"])
        return Response(ACCEPTED, status=status.HTTP_202_ACCEPTED)


class VerifyConfirmApi(APIView):
    class Input(serializers.Serializer):
        channel = serializers.ChoiceField(choices=ContactVerification.Channel.choices)
        code = serializers.CharField(max_length=12)

    @extend_schema(request=Input, responses=UserOutput)
    def post(self, request):
        data = validated(self.Input, request.data)
        user = verification.contact_verification_confirm(user=request.user, **data)
        return Response(UserOutput(user).data)


class PasswordResetApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [PasswordResetIpThrottle, PasswordResetAccountThrottle]

    class Input(serializers.Serializer):
        email = serializers.EmailField()

    @extend_schema(request=Input, responses={202: AcceptedOutput})
    def post(self, request):
        data = validated(self.Input, request.data)
        user_id = credentials.password_reset_request(email=data["email"])
        # Published for an unknown address too (None): the same work and answer either way.
        transaction.on_commit(lambda: send_password_reset.delay(user_id))
        return Response(ACCEPTED, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [PasswordResetConfirmIpThrottle, PasswordResetConfirmAccountThrottle]

    class Input(serializers.Serializer):
        uid = serializers.CharField(max_length=64)
        token = serializers.CharField(max_length=128)
        password = serializers.CharField(max_length=128, write_only=True)

    @extend_schema(request=Input, responses={204: None})
    def post(self, request):
        data = validated(self.Input, request.data)
        credentials.password_reset_confirm(**data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(APIView):
    throttle_classes = [PasswordChangeUserThrottle, PasswordChangeIpThrottle]

    class Input(serializers.Serializer):
        old_password = serializers.CharField(max_length=128, write_only=True)
        new_password = serializers.CharField(max_length=128, write_only=True)
        refresh = serializers.CharField(
            required=False, help_text="This client's refresh token: it stays valid, every other one is revoked."
        )

    @extend_schema(request=Input, responses={204: None})
    def post(self, request):
        data = validated(self.Input, request.data)
        keep_jti = None
        if "refresh" in data:
            try:
                keep = RefreshToken(data["refresh"])
            except TokenError as exc:
                raise ValidationFailed(fields={"refresh": [str(exc)]}) from exc
            if str(keep.get(jwt_settings.USER_ID_CLAIM)) != str(request.user.pk):
                raise ValidationFailed(fields={"refresh": [_("This refresh token is not yours.")]})
            keep_jti = keep[jwt_settings.JTI_CLAIM]
        credentials.password_change(
            user=request.user, old_password=data["old_password"], new_password=data["new_password"], keep_jti=keep_jti
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
