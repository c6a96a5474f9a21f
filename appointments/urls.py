from django.urls import path

from appointments import apis, confirmation_apis, search_apis

urlpatterns = [
    path("doctors/", search_apis.DoctorListApi.as_view(), name="doctor-list"),
    path("doctors/<uuid:doctor_id>/", search_apis.DoctorDetailApi.as_view(), name="doctor-detail"),
    path("doctors/<uuid:doctor_id>/slots/", apis.DoctorSlotsApi.as_view(), name="doctor-slots"),
    path("doctors/<uuid:doctor_id>/working-hours/", apis.WorkingHoursListApi.as_view(), name="working-hours"),
    path(
        "doctors/<uuid:doctor_id>/working-hours/<uuid:hours_id>/",
        apis.WorkingHoursDetailApi.as_view(),
        name="working-hours-detail",
    ),
    path("doctors/<uuid:doctor_id>/breaks/", apis.BreakListApi.as_view(), name="breaks"),
    path("doctors/<uuid:doctor_id>/breaks/<uuid:break_id>/", apis.BreakDetailApi.as_view(), name="break-detail"),
    path("doctors/<uuid:doctor_id>/time-off/", apis.TimeOffListApi.as_view(), name="time-off"),
    path(
        "doctors/<uuid:doctor_id>/time-off/<uuid:time_off_id>/", apis.TimeOffDetailApi.as_view(), name="time-off-detail"
    ),
    path("appointments/", apis.AppointmentListApi.as_view(), name="appointment-list"),
    path("appointments/<uuid:appointment_id>/", apis.AppointmentDetailApi.as_view(), name="appointment-detail"),
    path("appointments/<uuid:appointment_id>/cancel/", apis.AppointmentCancelApi.as_view(), name="appointment-cancel"),
    path(
        "appointments/<uuid:appointment_id>/reschedule/",
        apis.AppointmentRescheduleApi.as_view(),
        name="appointment-reschedule",
    ),
    path(
        "appointments/<uuid:appointment_id>/complete/",
        apis.AppointmentCompleteApi.as_view(),
        name="appointment-complete",
    ),
    path(
        "appointments/<uuid:appointment_id>/no-show/", apis.AppointmentNoShowApi.as_view(), name="appointment-no-show"
    ),
    path("appointments/<uuid:appointment_id>/ics/", apis.AppointmentIcsApi.as_view(), name="appointment-ics"),
    path(
        "appointments/<uuid:appointment_id>/confirm/",
        confirmation_apis.AppointmentConfirmApi.as_view(),
        name="appointment-confirm",
    ),
    # Under notifications/ beside the status callback (API.md), but a reply acts on an appointment.
    path(
        "notifications/twilio/inbound/",
        confirmation_apis.TwilioInboundApi.as_view(),
        name="notification-twilio-inbound",
    ),
    path(
        "clinics/<uuid:clinic_id>/unclear-replies/",
        confirmation_apis.ClinicUnclearReplyListApi.as_view(),
        name="clinic-unclear-replies",
    ),
]
