"""Thin views: parse input, call one service or selector, render output."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Doctor
from accounts.permissions import IsPatient, acting_patient
from appointments import selectors as appointment_selectors
from appointments.serializers import AppointmentDetailOutput
from appointments.throttles import BookingThrottle
from medplatform.apiviews import paginated_response, validated
from medplatform.pagination import Pagination
from privacy.context import act_context
from waitlist import selectors, services
from waitlist.serializers import WaitlistClaimInput, WaitlistEntryOutput, WaitlistJoinInput


class WaitlistListApi(APIView):
    permission_classes = [IsAuthenticated, IsPatient]
    pagination_class = Pagination

    @extend_schema(responses=WaitlistEntryOutput(many=True))
    def get(self, request):
        return paginated_response(self, selectors.waitlist_list(viewer=request.user), WaitlistEntryOutput)

    @extend_schema(request=WaitlistJoinInput, responses={201: WaitlistEntryOutput})
    def post(self, request):
        data = validated(WaitlistJoinInput, request.data)
        doctor = get_object_or_404(Doctor.objects.select_related("user"), id=data["doctor"], is_active=True)
        patient = acting_patient(request.user, data.get("patient"))
        entry = services.waitlist_join(
            actor=request.user,
            patient=patient,
            doctor=doctor,
            first_day=data["from"],
            last_day=data["to"],
            context=act_context(request),
        )
        return Response(WaitlistEntryOutput(entry).data, status=status.HTTP_201_CREATED)


class WaitlistDetailApi(APIView):
    permission_classes = [IsAuthenticated, IsPatient]

    @extend_schema(responses=WaitlistEntryOutput)
    def get(self, request, waitlist_entry_id):
        return Response(
            WaitlistEntryOutput(selectors.waitlist_get(viewer=request.user, entry_id=waitlist_entry_id)).data
        )

    @extend_schema(responses={204: None})
    def delete(self, request, waitlist_entry_id):
        entry = selectors.waitlist_get(viewer=request.user, entry_id=waitlist_entry_id)
        services.waitlist_leave(actor=request.user, entry=entry, context=act_context(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WaitlistClaimApi(APIView):
    permission_classes = [IsAuthenticated, IsPatient]
    throttle_classes = [BookingThrottle]

    @extend_schema(request=WaitlistClaimInput, responses={201: AppointmentDetailOutput})
    def post(self, request, waitlist_entry_id):
        entry = selectors.waitlist_get(viewer=request.user, entry_id=waitlist_entry_id)
        data = validated(WaitlistClaimInput, request.data)
        appointment = services.waitlist_claim(actor=request.user, entry=entry, context=act_context(request), **data)
        # The booking in hand has what the answer shows, as POST /api/v1/appointments/ answers.
        appointment = appointment_selectors.appointment_shown(
            viewer=request.user, appointment=appointment, context=act_context(request)
        )
        output = AppointmentDetailOutput(appointment, context={"viewer": request.user})
        return Response(output.data, status=status.HTTP_201_CREATED)
