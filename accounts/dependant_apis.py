"""Family members (API.md, Accounts): a patient's dependants, the handover at 18 and the claim."""

from drf_spectacular.utils import extend_schema
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import dependants
from accounts.models import Guardianship
from accounts.permissions import IsPatient
from accounts.recovery_throttles import PasswordResetConfirmIpThrottle
from medplatform.apiviews import paginated_response, validated
from medplatform.date_fields import InRangeDateField
from medplatform.pagination import Pagination
from privacy.context import act_context


class DependantOutput(serializers.ModelSerializer):
    """One dependant: `id` is the dependant's own patient id, sent as `patient` to act for them."""

    id = serializers.UUIDField(source="dependant_id", read_only=True)
    first_name = serializers.CharField(source="dependant.first_name", read_only=True)
    last_name = serializers.CharField(source="dependant.last_name", read_only=True)
    national_id = serializers.CharField(source="dependant.masked_national_id", read_only=True, allow_null=True)
    guardianship = serializers.UUIDField(source="id", read_only=True)

    class Meta:
        model = Guardianship
        fields = [
            "id",
            "first_name",
            "last_name",
            "birth_date",
            "relationship",
            "national_id",
            "authority_type",
            "guardianship",
            "started_at",
        ]
        read_only_fields = fields


class DependantListApi(APIView):
    pagination_class = Pagination
    permission_classes = [IsPatient]

    class Input(serializers.Serializer):
        first_name = serializers.CharField(max_length=100)
        last_name = serializers.CharField(max_length=100)
        birth_date = InRangeDateField()
        relationship = serializers.ChoiceField(choices=Guardianship.Relationship.choices)
        national_id = serializers.CharField(max_length=11, required=False, allow_blank=True, allow_null=True)
        authority_type = serializers.ChoiceField(
            choices=Guardianship.Authority.choices, required=False, allow_blank=True, default=""
        )
        authority_reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    @extend_schema(responses=DependantOutput(many=True))
    def get(self, request):
        return paginated_response(self, dependants.dependant_list(guardian=request.user), DependantOutput)

    @extend_schema(request=Input, responses={201: DependantOutput})
    def post(self, request):
        data = validated(self.Input, request.data)
        guardianship = dependants.dependant_add(guardian=request.user, context=act_context(request), **data)
        return Response(DependantOutput(guardianship).data, status=status.HTTP_201_CREATED)


class HandoverOutput(serializers.Serializer):
    status = serializers.CharField()
    expires_at = serializers.DateTimeField()


class DependantHandoverApi(APIView):
    permission_classes = [IsPatient]

    class Input(serializers.Serializer):
        email = serializers.EmailField()
        phone = PhoneNumberField()

    @extend_schema(request=Input, responses={202: HandoverOutput})
    def post(self, request, dependant_id):
        data = validated(self.Input, request.data)
        invitation = dependants.dependant_handover_invite(
            guardian=request.user,
            dependant_id=dependant_id,
            email=data["email"],
            phone=data["phone"],
            context=act_context(request),
        )
        body = {"status": "invited", "expires_at": invitation.expires_at}
        return Response(HandoverOutput(body).data, status=status.HTTP_202_ACCEPTED)


class ClaimApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [PasswordResetConfirmIpThrottle]

    class Input(serializers.Serializer):
        token = serializers.CharField(max_length=200)
        password = serializers.CharField(max_length=128, write_only=True)

    @extend_schema(request=Input, responses={204: None})
    def post(self, request):
        data = validated(self.Input, request.data)
        dependants.dependant_claim(token=data["token"], password=data["password"], context=act_context(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
