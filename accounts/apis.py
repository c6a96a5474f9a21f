import hashlib
import logging

from django.contrib.auth.models import update_last_login
from django.db.models import prefetch_related_objects
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenObtainSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import login_limits, second_factor, selectors, services
from accounts.errors import InvalidCredentials, SecondFactorRequired
from accounts.models import Clinic, ClinicInvitation, User
from accounts.permissions import IsPlatformAdmin
from accounts.serializers import (
    ClinicInput,
    ClinicInvitationOutput,
    ClinicOutput,
    DoctorDetailOutput,
    DoctorInput,
    InvitationCreatedOutput,
    SpecialtyOutput,
    StaffInput,
    StaffOutput,
    UserOutput,
)
from accounts.throttles import LoginIpThrottle, RegisterThrottle
from medplatform.apiviews import paginated_response, validated
from medplatform.client_address import client_ip
from medplatform.date_fields import InRangeDateField
from medplatform.errors import ValidationFailed
from medplatform.pagination import Pagination

security_log = logging.getLogger("medplatform.security")


class RegisterApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [RegisterThrottle]

    class Input(serializers.Serializer):
        email = serializers.EmailField()
        password = serializers.CharField(write_only=True, max_length=128)
        first_name = serializers.CharField(max_length=100)
        last_name = serializers.CharField(max_length=100)
        phone = PhoneNumberField()
        language = serializers.ChoiceField(choices=User.Language.choices, default="tr")

    @extend_schema(request=Input, responses={201: UserOutput})
    def post(self, request):
        data = validated(self.Input, request.data)
        user = services.user_register(**data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class SecondFactorTokenSerializer(TokenObtainSerializer):
    """E-mail and password (the login limits apply), then `otp` for those who need a second factor."""

    token_class = RefreshToken
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        write_only=True,
        help_text="Doctors, clinic staff and admins: the code from their authenticator app (or a recovery code).",
    )

    def validate(self, attrs):
        code = attrs.pop("otp", "")
        request = self.context["request"]
        try:
            super().validate(attrs)
        except AuthenticationFailed:
            wait = login_limits.limited_for(request)
            if wait:
                raise Throttled(wait=wait) from None
            raise InvalidCredentials from None
        if second_factor.second_factor_required(self.user):
            if not code:
                raise SecondFactorRequired
            if second_factor.device_for_code(user=self.user, code=code) is None:
                raise SecondFactorRequired(_("The code is not valid. Wait for the next one and try again."))
        refresh = self.get_token(self.user)
        if jwt_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, self.user)
        return {"refresh": str(refresh), "access": str(refresh.access_token)}


class TokenOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class TokenObtainApi(TokenObtainPairView):
    # Per address over all accounts (requests); the login limits slow guessing per account and
    # address without a per-account lock anyone could set off (accounts/login_limits.py).
    throttle_classes = [LoginIpThrottle]
    serializer_class = SecondFactorTokenSerializer

    @extend_schema(request=SecondFactorTokenSerializer, responses={200: TokenOutput})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if response.status_code == 401:
            email = self.request.data.get("email", "") if hasattr(self.request.data, "get") else ""
            security_log.warning(
                "login failed account=%s ip=%s",
                hashlib.sha256(str(email).strip().lower().encode()).hexdigest()[:16],
                client_ip(self.request),
            )
        return response


class RotatingRefreshSerializer(TokenRefreshSerializer):
    """simplejwt's refresh input and output; the rotation itself is accounts.services'."""

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])
        user = User.objects.filter(id=refresh.get(jwt_settings.USER_ID_CLAIM)).first()
        if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account")
        successor = services.refresh_token_rotate(refresh=refresh)
        return {"access": str(successor.access_token), "refresh": str(successor)}


class TokenRefreshApi(TokenRefreshView):
    serializer_class = RotatingRefreshSerializer


class LogoutApi(APIView):
    class Input(serializers.Serializer):
        refresh = serializers.CharField()

    @extend_schema(request=Input, responses={204: None})
    def post(self, request):
        data = validated(self.Input, request.data)
        try:
            token = RefreshToken(data["refresh"])
        except TokenError as exc:
            raise ValidationFailed(fields={"refresh": [str(exc)]}) from exc
        if str(token.get("user_id")) != str(request.user.id):
            raise ValidationFailed(fields={"refresh": [_("Token is invalid or expired.")]})
        token.blacklist()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    class Input(serializers.Serializer):
        email = serializers.EmailField(required=False)
        first_name = serializers.CharField(max_length=100, required=False)
        last_name = serializers.CharField(max_length=100, required=False)
        phone = PhoneNumberField(required=False)
        language = serializers.ChoiceField(choices=User.Language.choices, required=False)
        national_id = serializers.CharField(max_length=11, required=False, allow_blank=True, allow_null=True)
        birth_date = InRangeDateField(required=False, allow_null=True)

    @extend_schema(responses=UserOutput)
    def get(self, request):
        return Response(UserOutput(request.user).data)

    @extend_schema(request=Input, responses=UserOutput)
    def patch(self, request):
        data = validated(self.Input, request.data)
        user = services.user_update(user=request.user, **data)
        return Response(UserOutput(user).data)


class SpecialtyListApi(APIView):
    pagination_class = Pagination
    permission_classes = [AllowAny]

    @extend_schema(responses=SpecialtyOutput(many=True))
    def get(self, request):
        return paginated_response(self, selectors.specialty_list(), SpecialtyOutput)


class ClinicListApi(APIView):
    pagination_class = Pagination

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated(), IsPlatformAdmin()]

    @extend_schema(responses=ClinicOutput(many=True))
    def get(self, request):
        return paginated_response(self, selectors.clinic_list(), ClinicOutput)

    @extend_schema(request=ClinicInput, responses={201: ClinicOutput})
    def post(self, request):
        data = validated(ClinicInput, request.data)
        clinic = services.clinic_create(actor=request.user, **data)
        return Response(ClinicOutput(clinic).data, status=status.HTTP_201_CREATED)


class ClinicDetailApi(APIView):
    class Input(serializers.Serializer):
        requires_confirmation = serializers.BooleanField(
            required=False, help_text="In-person visits must be confirmed the day before, or are released."
        )
        confirmation_hour = serializers.IntegerField(
            required=False, min_value=0, max_value=23, help_text="The deadline's hour of the day before (clinic time)."
        )

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(responses=ClinicOutput)
    def get(self, request, clinic_id):
        return Response(ClinicOutput(get_object_or_404(Clinic, id=clinic_id)).data)

    @extend_schema(request=Input, responses=ClinicOutput)
    def patch(self, request, clinic_id):
        clinic = get_object_or_404(Clinic, id=clinic_id)
        data = validated(self.Input, request.data)
        return Response(ClinicOutput(services.clinic_settings_update(actor=request.user, clinic=clinic, **data)).data)


def _invitation_sent(invitation: ClinicInvitation) -> Response:
    return Response({"invitation": ClinicInvitationOutput(invitation).data}, status=status.HTTP_202_ACCEPTED)


class ClinicStaffApi(APIView):
    @extend_schema(request=StaffInput, responses={201: StaffOutput, 202: InvitationCreatedOutput})
    def post(self, request, clinic_id):
        clinic = get_object_or_404(Clinic, id=clinic_id)
        data = validated(StaffInput, request.data)
        added = services.clinic_staff_add(actor=request.user, clinic=clinic, **data)
        if isinstance(added, ClinicInvitation):
            return _invitation_sent(added)
        return Response(StaffOutput(added).data, status=status.HTTP_201_CREATED)


class ClinicDoctorApi(APIView):
    @extend_schema(request=DoctorInput, responses={201: DoctorDetailOutput, 202: InvitationCreatedOutput})
    def post(self, request, clinic_id):
        clinic = get_object_or_404(Clinic, id=clinic_id)
        data = validated(DoctorInput, request.data)
        doctor = services.clinic_doctor_add(actor=request.user, clinic=clinic, **data)
        if isinstance(doctor, ClinicInvitation):
            return _invitation_sent(doctor)
        prefetch_related_objects([doctor], "clinics")  # the answer reads them four times
        return Response(DoctorDetailOutput(doctor).data, status=status.HTTP_201_CREATED)


class MyInvitationListApi(APIView):
    """The clinic invitations of the doctor or staff member who asks (every status, newest first)."""

    pagination_class = Pagination

    @extend_schema(responses=ClinicInvitationOutput(many=True))
    def get(self, request):
        return paginated_response(self, selectors.clinic_invitation_list(user=request.user), ClinicInvitationOutput)


class MyInvitationAcceptApi(APIView):
    @extend_schema(request=None, responses=ClinicInvitationOutput)
    def post(self, request, invitation_id):
        invitation = services.clinic_invitation_accept(user=request.user, invitation_id=invitation_id)
        return Response(ClinicInvitationOutput(invitation).data)


class MyInvitationDeclineApi(APIView):
    @extend_schema(request=None, responses=ClinicInvitationOutput)
    def post(self, request, invitation_id):
        invitation = services.clinic_invitation_decline(user=request.user, invitation_id=invitation_id)
        return Response(ClinicInvitationOutput(invitation).data)
