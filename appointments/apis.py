"""Thin views: parse input, call one service or selector, render output."""

import json
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Clinic, Doctor
from accounts.permissions import IsPatient, acting_patient
from appointments import permissions, selectors, services
from appointments.availability import zone
from appointments.calendar import appointment_ics
from appointments.models import Appointment, Break, TimeOff, WorkingHours
from appointments.serializers import (
    AppointmentDetailOutput,
    AppointmentOutput,
    AwareDateTimeField,
    BookInput,
    BreakInput,
    BreakOutput,
    SlotOutput,
    TimeOffInput,
    TimeOffOutput,
    WorkingHoursInput,
    WorkingHoursOutput,
    WorkingHoursPatch,
)
from appointments.throttles import BookingThrottle
from medplatform.apiviews import paginated_response, validated
from medplatform.date_fields import InRangeDateField, check_year
from medplatform.encryption import keyed_hashes
from medplatform.errors import PermissionDenied, ValidationFailed
from medplatform.pagination import Pagination
from privacy.context import act_context

MAX_SLOT_DAYS = 31


def query_names(fields: dict) -> dict:
    """A serializer's fields with `from_` named `from` (a keyword in Python, a parameter in the API)."""
    return {("from" if name == "from_" else name): field for name, field in fields.items()}


def _doctor(doctor_id) -> Doctor:
    return get_object_or_404(Doctor.objects.select_related("user"), id=doctor_id, is_active=True)


def _clinic_of(doctor: Doctor, clinic_id) -> Clinic:
    clinic = doctor.clinics.filter(id=clinic_id).first()
    if clinic is None:
        raise ValidationFailed(fields={"clinic": [_("The doctor does not work at this clinic.")]})
    return clinic


def _require_schedule_access(request, doctor: Doctor) -> None:
    if not permissions.can_manage_schedule(request.user, doctor):
        raise PermissionDenied()


class DoctorSlotsApi(APIView):
    permission_classes = [AllowAny]

    class Filters(serializers.Serializer):
        # `from` is a Python keyword: declared as from_, named `from` in input, output and errors.
        from_ = InRangeDateField(required=False)
        to = InRangeDateField(required=False)

        def get_fields(self):
            return query_names(super().get_fields())

        def to_internal_value(self, data):
            return super().to_internal_value({key: data[key] for key in ("from", "to") if data.get(key)})

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="first local day (default today)"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="last local day (default from + 13 days; ≤ 31 days)"),
        ],
        responses=SlotOutput(many=True),
    )
    def get(self, request, doctor_id):
        filters = validated(self.Filters, request.query_params)
        first = filters.get("from") or timezone.localdate(timezone=zone(settings.DEFAULT_CLINIC_TIMEZONE))
        last = filters.get("to") or first + timedelta(days=13)
        if last < first:
            raise ValidationFailed(fields={"to": [_("Must not be before `from`.")]})
        if (last - first).days + 1 > MAX_SLOT_DAYS:
            raise ValidationFailed(fields={"to": [_("At most %(days)d days per call.") % {"days": MAX_SLOT_DAYS}]})
        return Response(selectors.doctor_slots_shown(doctor_id=doctor_id, first_day=first, last_day=last))


class WorkingHoursListApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses=WorkingHoursOutput(many=True))
    def get(self, request, doctor_id):
        doctor = _doctor(doctor_id)
        _require_schedule_access(request, doctor)
        return paginated_response(self, selectors.working_hours_list(doctor=doctor), WorkingHoursOutput)

    @extend_schema(request=WorkingHoursInput, responses={201: WorkingHoursOutput})
    def post(self, request, doctor_id):
        doctor = _doctor(doctor_id)
        _require_schedule_access(request, doctor)
        data = validated(WorkingHoursInput, request.data)
        data["clinic"] = _clinic_of(doctor, data["clinic"])
        hours = services.working_hours_create(actor=request.user, doctor=doctor, **data)
        return Response(WorkingHoursOutput(hours).data, status=status.HTTP_201_CREATED)


class WorkingHoursDetailApi(APIView):
    def _hours(self, request, doctor_id, hours_id) -> WorkingHours:
        doctor = _doctor(doctor_id)
        _require_schedule_access(request, doctor)
        return get_object_or_404(WorkingHours.objects.select_related("doctor", "clinic"), id=hours_id, doctor=doctor)

    @extend_schema(responses=WorkingHoursOutput)
    def get(self, request, doctor_id, hours_id):
        return Response(WorkingHoursOutput(self._hours(request, doctor_id, hours_id)).data)

    @extend_schema(request=WorkingHoursPatch, responses=WorkingHoursOutput)
    def patch(self, request, doctor_id, hours_id):
        hours = self._hours(request, doctor_id, hours_id)
        data = validated(WorkingHoursPatch, request.data)
        hours = services.working_hours_update(actor=request.user, hours=hours, **data)
        return Response(WorkingHoursOutput(hours).data)

    @extend_schema(responses={204: None})
    def delete(self, request, doctor_id, hours_id):
        services.working_hours_delete(actor=request.user, hours=self._hours(request, doctor_id, hours_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BreakListApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses=BreakOutput(many=True))
    def get(self, request, doctor_id):
        doctor = _doctor(doctor_id)
        _require_schedule_access(request, doctor)
        return paginated_response(self, selectors.break_list(doctor=doctor), BreakOutput)

    @extend_schema(request=BreakInput, responses={201: BreakOutput})
    def post(self, request, doctor_id):
        doctor = _doctor(doctor_id)
        _require_schedule_access(request, doctor)
        data = validated(BreakInput, request.data)
        data["clinic"] = _clinic_of(doctor, data["clinic"])
        pause = services.break_create(actor=request.user, doctor=doctor, **data)
        return Response(BreakOutput(pause).data, status=status.HTTP_201_CREATED)


class BreakDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, doctor_id, break_id):
        doctor = _doctor(doctor_id)
        _require_schedule_access(request, doctor)
        pause = get_object_or_404(Break.objects.select_related("doctor", "clinic"), id=break_id, doctor=doctor)
        services.break_delete(actor=request.user, pause=pause)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TimeOffListApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses=TimeOffOutput(many=True))
    def get(self, request, doctor_id):
        doctor = _doctor(doctor_id)
        _require_schedule_access(request, doctor)
        return paginated_response(self, selectors.time_off_list(doctor=doctor), TimeOffOutput)

    @extend_schema(
        request=TimeOffInput,
        responses={
            201: inline_serializer(
                "TimeOffCreated",
                {
                    **{name: field for name, field in TimeOffOutput().get_fields().items()},
                    "appointments_cancelled": serializers.IntegerField(),
                },
            )
        },
    )
    def post(self, request, doctor_id):
        doctor = _doctor(doctor_id)
        _require_schedule_access(request, doctor)
        data = validated(TimeOffInput, request.data)
        time_off, cancelled = services.time_off_create(actor=request.user, doctor=doctor, **data)
        body = {**TimeOffOutput(time_off).data, "appointments_cancelled": cancelled}
        return Response(body, status=status.HTTP_201_CREATED)


class TimeOffDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, doctor_id, time_off_id):
        doctor = _doctor(doctor_id)
        _require_schedule_access(request, doctor)
        time_off = get_object_or_404(TimeOff.objects.select_related("doctor"), id=time_off_id, doctor=doctor)
        services.time_off_delete(actor=request.user, time_off=time_off)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DateOrDateTimeField(serializers.Field):
    """A YYYY-MM-DD (a local day in the default clinic zone) or a time with its offset."""

    def __init__(self, *, end_of_day: bool = False, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = str(data)
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                check_year(day)
                if self.end_of_day:
                    day += timedelta(days=1)
                return datetime.combine(day, time.min, tzinfo=zone(settings.DEFAULT_CLINIC_TIMEZONE))
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise serializers.ValidationError(_("Use YYYY-MM-DD or a time with its offset.")) from None
        if timezone.is_naive(value):
            raise serializers.ValidationError(_("Give the time with its UTC offset."))
        check_year(value)
        return value


class AppointmentListApi(APIView):
    pagination_class = Pagination

    class Filters(serializers.Serializer):
        status = serializers.ChoiceField(choices=Appointment.Status.choices, required=False)
        from_ = DateOrDateTimeField(required=False)
        to = DateOrDateTimeField(required=False, end_of_day=True)

        def get_fields(self):
            return query_names(super().get_fields())

        def to_internal_value(self, data):
            return super().to_internal_value({key: data[key] for key in ("status", "from", "to") if data.get(key)})

    def get_permissions(self):
        return [IsAuthenticated(), IsPatient()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_throttles(self):
        return [BookingThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=Appointment.Status.values),
            OpenApiParameter("from", str, description="YYYY-MM-DD or a time with offset"),
            OpenApiParameter("to", str, description="YYYY-MM-DD (inclusive) or a time with offset"),
        ],
        responses=AppointmentOutput(many=True),
    )
    def get(self, request):
        filters = validated(self.Filters, request.query_params)
        appointments = selectors.appointment_list(
            viewer=request.user,
            status=filters.get("status"),
            start_from=filters.get("from"),
            start_to=filters.get("to"),
        )
        return paginated_response(self, appointments, AppointmentOutput, context={"viewer": request.user})

    @extend_schema(
        request=BookInput,
        examples=[
            OpenApiExample(
                "Book an in-person visit",
                value={
                    "doctor": "3f0c2f9e-6a4b-4d8e-9a57-3c1f1f6f2b10",
                    "start": "2026-12-01T09:30:00+03:00",
                    "visit_reason": "Göğüs ağrısı",
                    "exam_type": "kontrol",
                    "visit_type": "in_person",
                },
                request_only=True,
            )
        ],
        parameters=[OpenApiParameter("Idempotency-Key", str, location=OpenApiParameter.HEADER, required=False)],
        responses={201: AppointmentDetailOutput},
    )
    def post(self, request):
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and len(key) > 255:
            raise ValidationFailed(fields={"Idempotency-Key": [_("At most %(count)d characters.") % {"count": 255}]})
        data = validated(BookInput, request.data)
        if "clinic" in data:
            data["doctor"] = _doctor(data["doctor"])
            data["clinic"] = _clinic_of(data["doctor"], data["clinic"])
        # Otherwise the service reads the doctor (404 when unknown or inactive) in its locking statement.
        patient = acting_patient(request.user, data.pop("patient", None))
        body_hashes = (
            keyed_hashes(json.dumps(request.data, sort_keys=True, default=str), purpose="idempotency")
            if key is not None
            else []
        )
        appointment, _replayed = services.appointment_book(
            patient=patient,
            actor=request.user,
            idempotency_key=key,
            request_hashes=body_hashes,
            context=act_context(request),
            **data,
        )
        if _replayed:
            appointment = selectors.appointment_detail(
                viewer=request.user, appointment_id=appointment.id, context=act_context(request)
            )
        else:
            # The booking in hand has what the answer shows: no second read.
            appointment = selectors.appointment_shown(
                viewer=request.user, appointment=appointment, context=act_context(request)
            )
        output = AppointmentDetailOutput(appointment, context={"viewer": request.user})
        return Response(output.data, status=status.HTTP_201_CREATED)


class AppointmentDetailApi(APIView):
    class Input(serializers.Serializer):
        visit_reason = serializers.CharField(max_length=1000, required=False)
        exam_type = serializers.CharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(responses=AppointmentDetailOutput)
    def get(self, request, appointment_id):
        appointment = selectors.appointment_detail(
            viewer=request.user, appointment_id=appointment_id, context=act_context(request)
        )
        return Response(AppointmentDetailOutput(appointment, context={"viewer": request.user}).data)

    @extend_schema(request=Input, responses=AppointmentDetailOutput)
    def patch(self, request, appointment_id):
        appointment = selectors.appointment_get(viewer=request.user, appointment_id=appointment_id)
        data = validated(self.Input, request.data)
        services.appointment_update_details(appointment=appointment, actor=request.user, **data)
        appointment = selectors.appointment_detail(
            viewer=request.user, appointment_id=appointment_id, context=act_context(request)
        )
        return Response(AppointmentDetailOutput(appointment, context={"viewer": request.user}).data)


class _AppointmentActionApi(APIView):
    def respond(self, request, appointment: Appointment):
        """The whole appointment, as the booking answers (API.md: every action does), from the row
        the service has just written."""
        appointment = selectors.appointment_shown(
            viewer=request.user, appointment=appointment, context=act_context(request)
        )
        return Response(AppointmentDetailOutput(appointment, context={"viewer": request.user}).data)


class AppointmentCancelApi(_AppointmentActionApi):
    class Input(serializers.Serializer):
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(request=Input, responses=AppointmentDetailOutput)
    def post(self, request, appointment_id):
        appointment = selectors.appointment_get(viewer=request.user, appointment_id=appointment_id)
        data = validated(self.Input, request.data)
        appointment = services.appointment_cancel(appointment=appointment, actor=request.user, reason=data["reason"])
        return self.respond(request, appointment)


class AppointmentRescheduleApi(_AppointmentActionApi):
    throttle_classes = [BookingThrottle]

    class Input(serializers.Serializer):
        start = AwareDateTimeField()

    @extend_schema(request=Input, responses=AppointmentDetailOutput)
    def post(self, request, appointment_id):
        appointment = selectors.appointment_get(viewer=request.user, appointment_id=appointment_id)
        data = validated(self.Input, request.data)
        appointment = services.appointment_reschedule(appointment=appointment, actor=request.user, start=data["start"])
        return self.respond(request, appointment)


class AppointmentCompleteApi(_AppointmentActionApi):
    @extend_schema(request=None, responses=AppointmentDetailOutput)
    def post(self, request, appointment_id):
        appointment = selectors.appointment_get(viewer=request.user, appointment_id=appointment_id)
        appointment = services.appointment_complete(appointment=appointment, actor=request.user)
        return self.respond(request, appointment)


class AppointmentNoShowApi(_AppointmentActionApi):
    @extend_schema(request=None, responses=AppointmentDetailOutput)
    def post(self, request, appointment_id):
        appointment = selectors.appointment_get(viewer=request.user, appointment_id=appointment_id)
        appointment = services.appointment_mark_no_show(appointment=appointment, actor=request.user)
        return self.respond(request, appointment)


class AppointmentIcsApi(APIView):
    @extend_schema(responses={(200, "text/calendar"): str})
    def get(self, request, appointment_id):
        appointment = selectors.appointment_get(viewer=request.user, appointment_id=appointment_id)
        if not permissions.can_see_meeting_url(request.user, appointment):
            raise PermissionDenied()
        body = appointment_ics(appointment, show_meeting_url=True)
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.id}.ics"'
        return response
