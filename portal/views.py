"""Server-rendered pages for doctors and clinic staff: two skins, one set of rules. Every page
calls the same selectors, services and permission functions as the API."""

import uuid
from datetime import date, datetime, time, timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from accounts import second_factor
from accounts import selectors as account_selectors
from accounts.login_forms import PortalLoginForm
from accounts.models import Clinic, Doctor
from accounts.permissions import is_clinic_admin
from appointments import confirmation
from appointments import permissions as appointment_permissions
from appointments import selectors as appointment_selectors
from appointments import services as appointment_services
from appointments.errors import SlotUnavailable
from appointments.models import Appointment, VisitType, Weekday
from health_profiles import selectors as health_selectors
from health_profiles import services as health_services
from medplatform.errors import ApplicationError, NotFound, ValidationFailed
from privacy.context import act_context
from reviews import selectors as review_selectors
from reviews import services as review_services
from standing import selectors as standing_selectors
from standing import services as standing_services
from standing.models import Appeal


def _portal_user(request):
    """Doctors and clinic staff use the portal; patients use the app."""
    if not (request.user.is_doctor or request.user.is_clinic_staff):
        raise PermissionDenied
    return request.user


def portal_page(view):
    """A page with patient data: a doctor or clinic staff member, verified by their second factor."""

    @login_required
    @wraps(view)
    def page(request, *args, **kwargs):
        _portal_user(request)
        if not request.user.is_verified():
            return redirect_to_login(request.get_full_path(), reverse("portal:second-factor"))
        return view(request, *args, **kwargs)

    return page


def _next_page(request) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return wanted
    return reverse("portal:agenda") if not request.user.is_platform_admin else reverse("admin:index")


def _second_factor_user(request):
    """Doctors, clinic staff and admins give a second factor; patients have no business here."""
    if not second_factor.second_factor_required(request.user):
        raise PermissionDenied
    return request.user


@login_required
def second_factor_verify(request):
    user = _second_factor_user(request)
    if not second_factor.has_second_factor(user):
        return redirect(f"{reverse('portal:second-factor-enrol')}?{request.GET.urlencode()}")
    if request.user.is_verified():
        return redirect(_next_page(request))
    error = None
    if request.method == "POST":
        device = second_factor.device_for_code(user=user, code=request.POST.get("code", ""))
        if device is not None:
            request.session.cycle_key()
            otp_login(request, device)
            return redirect(_next_page(request))
        error = _("The code is not valid. Wait for the next one and try again.")
    return render(request, "portal/second_factor.html", {"error": error, "next": _next_page(request)})


@login_required
def second_factor_enrol(request):
    user = _second_factor_user(request)
    if second_factor.has_second_factor(user):
        # Only a verified session could replace a device; nobody re-enrols with a password alone.
        return redirect(f"{reverse('portal:second-factor')}?{request.GET.urlencode()}")
    device = second_factor.enrolment_device(user=user)
    error = None
    if request.method == "POST":
        codes = second_factor.enrolment_confirm(user=user, device=device, code=request.POST.get("code", ""))
        if codes is not None:
            device.refresh_from_db()
            request.session.cycle_key()
            otp_login(request, device)
            # Shown this once and never stored in the clear anywhere the user can reach again.
            return render(request, "portal/recovery_codes.html", {"codes": codes, "next": _next_page(request)})
        error = _("The code is not valid. Wait for the next one and try again.")
    return render(
        request,
        "portal/second_factor_enrol.html",
        {
            "secret": second_factor.totp_secret(device),
            "otpauth_uri": device.config_url,
            "error": error,
            "next": _next_page(request),
        },
    )


def _home_zone(user) -> ZoneInfo:
    """The time zone a portal user's pages are shown in: their (first) clinic's."""
    clinics = (
        account_selectors.staff_clinic_list(viewer=user)
        if user.is_clinic_staff
        else Clinic.objects.filter(doctors__user=user).order_by("name", "id")
    )
    clinic = clinics.first()
    return ZoneInfo(clinic.timezone if clinic else settings.DEFAULT_CLINIC_TIMEZONE)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _parse_local(value: str, zone: ZoneInfo) -> datetime | None:
    """A `datetime-local` form value, read in the clinic's time zone."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=zone) if timezone.is_naive(parsed) else parsed


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value or "")
    except ValueError:
        return None


def _error_messages(exc: ApplicationError) -> list[str]:
    """The error and each field's message, as the person at the desk should read them."""
    found = [str(exc.detail)]
    for problems in (exc.fields or {}).values():
        found += [str(problem) for problem in (problems if isinstance(problems, list | tuple) else [problems])]
    return found


def _report(request, exc: ApplicationError) -> None:
    for text in _error_messages(exc):
        messages.error(request, text)


def landing(request):
    """`/`: where the README, the start-up banner and the admin's "View site" link point."""
    return render(request, "portal/landing.html")


@portal_page
def agenda(request):
    """The day or the week, in the clinic's time zone; staff pick one doctor or see them all."""
    user = _portal_user(request)
    zone = _home_zone(user)
    view = "week" if request.GET.get("view") == "week" else "day"
    try:
        day = date.fromisoformat(request.GET.get("date") or request.GET.get("from") or "")
    except ValueError:
        day = timezone.localdate(timezone=zone)
    first = day - timedelta(days=day.weekday()) if view == "week" else day
    length = 7 if view == "week" else 1
    doctors = list(account_selectors.staff_doctor_list(viewer=user)) if user.is_clinic_staff else []
    doctor_id = _uuid_or_none(request.GET.get("doctor"))
    if doctor_id not in {doctor.id for doctor in doctors}:
        doctor_id = None
    appointments = appointment_selectors.appointment_list(
        viewer=user,
        start_from=_local_midnight(first, zone),
        start_to=_local_midnight(first + timedelta(days=length), zone),
        doctor_id=doctor_id,
    )
    days = {first + timedelta(days=offset): [] for offset in range(length)}
    for appointment in appointments:
        days.setdefault(appointment.start.astimezone(zone).date(), []).append(appointment)
    step = timedelta(days=length)
    return render(
        request,
        "portal/agenda.html",
        {
            "view": view,
            "first": first,
            "last": first + step - timedelta(days=1),
            "days": sorted(days.items()),
            "previous": (first - step).isoformat(),
            "next": (first + step).isoformat(),
            "today": timezone.localdate(timezone=zone).isoformat(),
            "doctors": doctors,
            "doctor_id": doctor_id,
            "zone": zone.key,
        },
    )


@portal_page
def appointment_detail(request, appointment_id):
    user = _portal_user(request)
    try:
        appointment = appointment_selectors.appointment_detail(
            viewer=user, appointment_id=appointment_id, context=act_context(request, channel="portal")
        )
    except ApplicationError:
        raise Http404 from None
    booked = appointment.status == Appointment.Status.BOOKED
    share = None
    if appointment_permissions.is_doctor_of(user, appointment):
        share = health_selectors.share_active_for(doctor_user=user, patient_id=appointment.patient_id)
    slots = []
    if booked and appointment_permissions.can_reschedule(user, appointment):
        today = timezone.localdate(timezone=ZoneInfo(appointment.clinic.timezone))
        slots = [
            slot
            for slot in appointment_selectors.slots_for(
                doctor=appointment.doctor, first_day=today, last_day=today + timedelta(days=13)
            )
            if slot.clinic_id == appointment.clinic_id and appointment.visit_type in slot.visit_types
        ][:60]
    return render(
        request,
        "portal/appointment.html",
        {
            "appointment": appointment,
            "history": appointment_selectors.appointment_history(appointment=appointment),
            "booked": booked,
            "started": appointment.start <= timezone.now(),
            "meeting_url": appointment.meeting_url
            if appointment_permissions.can_see_meeting_url(user, appointment)
            else None,
            "share": share,
            "slots": slots,
        },
    )


@portal_page
@require_POST
def appointment_action(request, appointment_id, action):
    user = _portal_user(request)
    try:
        appointment = appointment_selectors.appointment_get(viewer=user, appointment_id=appointment_id)
    except ApplicationError:
        raise Http404 from None
    try:
        if action == "cancel":
            appointment_services.appointment_cancel(
                appointment=appointment, actor=user, reason=request.POST.get("reason", "")[:500]
            )
            messages.success(request, _("The appointment is cancelled; the patient is told."))
        elif action == "complete":
            appointment_services.appointment_complete(appointment=appointment, actor=user)
            messages.success(request, _("Saved."))
        elif action == "no-show":
            appointment_services.appointment_mark_no_show(appointment=appointment, actor=user)
            messages.success(request, _("Saved."))
        elif action == "reschedule":
            start = _parse_local(request.POST.get("start", ""), ZoneInfo(appointment.clinic.timezone))
            if start is None:
                raise ValidationFailed(fields={"start": [_("Choose a free time.")]})
            appointment_services.appointment_reschedule(appointment=appointment, actor=user, start=start)
            messages.success(request, _("The appointment is moved; the patient is told."))
        else:
            raise Http404
    except ApplicationError as exc:
        _report(request, exc)
    return redirect("portal:appointment", appointment_id=appointment.id)


@portal_page
def reviews(request):
    """The doctor's published reviews, each with its reply or a form to write one."""
    user = _portal_user(request)
    if not user.is_doctor:
        raise Http404
    return render(request, "portal/reviews.html", {"reviews": review_selectors.review_list_for_doctor(viewer=user)})


@portal_page
@require_POST
def review_reply(request, review_id):
    user = _portal_user(request)
    try:
        review_services.review_reply(doctor_user=user, review_id=review_id, text=request.POST.get("text", "").strip())
        messages.success(request, _("Your reply is published."))
    except ApplicationError as exc:
        _report(request, exc)
    return redirect("portal:reviews")


@portal_page
def doctors(request):
    """The doctors of the staff member's clinics, each with their agenda and schedule."""
    user = _portal_user(request)
    if not user.is_clinic_staff:
        raise Http404
    return render(
        request,
        "portal/doctors.html",
        {
            "clinics": account_selectors.staff_clinic_list(viewer=user),
            "doctors": account_selectors.staff_doctor_list(viewer=user),
        },
    )


@portal_page
def appeals(request):
    """Clinic staff: appeals of no-show strikes at their clinics. Each pending appeal's reason
    shown is an audited read (standing.selectors.appeals_shown); decided ones have none left."""
    user = _portal_user(request)
    if not user.is_clinic_staff:
        raise Http404
    appeals = standing_selectors.appeal_list(viewer=user)
    pending = standing_selectors.appeals_shown(
        viewer=user,
        appeals=appeals.filter(status=Appeal.Status.PENDING)[:100],
        context=act_context(request, channel="portal"),
    )
    decided = appeals.exclude(status=Appeal.Status.PENDING).order_by("-decided_at", "id")[:20]
    policies = [
        {"clinic": clinic, "policy": policy, "own": own, "editable": is_clinic_admin(user, clinic)}
        for clinic, policy, own in standing_selectors.policy_list(viewer=user)
    ]
    context = {
        "pending": pending,
        "decided": decided,
        "policies": policies,
        "window_days": settings.NO_SHOW_WINDOW_DAYS,
    }
    return render(request, "portal/appeals.html", context)


UNCLEAR_REPLIES_SHOWN = 200


@portal_page
def unclear_replies(request):
    """Clinic staff: replies to a confirmation request that were neither yes nor no, newest first,
    per clinic (appointments.confirmation.unclear_reply_list, as the API). No text is kept: the
    clinic calls the sender back. `?clinic=` narrows to one of theirs; any other clinic is 404."""
    user = _portal_user(request)
    if not user.is_clinic_staff:
        raise Http404
    clinics = list(account_selectors.staff_clinic_list(viewer=user))
    if "clinic" in request.GET:
        clinic = Clinic.objects.filter(pk=_uuid_or_none(request.GET["clinic"])).first()
        if clinic is None:
            raise Http404
        clinics = [clinic]
    try:
        groups = [
            {
                "clinic": clinic,
                "replies": confirmation.unclear_reply_list(viewer=user, clinic=clinic).select_related(
                    "sender", "appointment__doctor__user"
                )[:UNCLEAR_REPLIES_SHOWN],
            }
            for clinic in clinics
        ]
    except NotFound:
        raise Http404 from None
    return render(
        request,
        "portal/unclear_replies.html",
        {
            "groups": groups,
            "shown": UNCLEAR_REPLIES_SHOWN,
            "retention_days": settings.CONFIRMATION_REPLY_FLAG_RETENTION_DAYS,
        },
    )


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


@portal_page
@require_POST
def no_show_policy(request, clinic_id):
    """The clinic's admin sets the clinic's own no-show policy."""
    user = _portal_user(request)
    clinic = Clinic.objects.filter(pk=clinic_id).first()
    if clinic is None:
        raise Http404
    try:
        strikes = _int_or_none(request.POST.get("strikes_to_block"))
        days = _int_or_none(request.POST.get("block_days"))
        if strikes is None or days is None:
            raise ValidationFailed(_("Give whole numbers."))
        standing_services.policy_set(
            actor=user,
            clinic=clinic,
            strikes_to_block=strikes,
            block_days=days,
            context=act_context(request, channel="portal"),
        )
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("The no-show policy is saved."))
    return redirect("portal:appeals")


@portal_page
@require_POST
def appeal_decide(request, appeal_id, decision):
    user = _portal_user(request)
    if decision not in ("accept", "refuse"):
        raise Http404
    try:
        standing_services.appeal_decide(
            actor=user,
            appeal_id=appeal_id,
            accept=decision == "accept",
            context=act_context(request, channel="portal"),
        )
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        _report(request, exc)
    else:
        if decision == "accept":
            messages.success(request, _("The appeal is accepted: the missed visit no longer counts. Patient told."))
        else:
            messages.success(request, _("The appeal is refused. The patient is told."))
    return redirect("portal:appeals")


def _schedule_doctor(user, doctor_id) -> Doctor:
    """A doctor whose schedule the user may manage (themself, or a doctor of their clinic); else 404."""
    doctor = Doctor.objects.select_related("user").filter(pk=doctor_id).first()
    if doctor is None or not appointment_permissions.can_manage_schedule(user, doctor):
        raise Http404
    return doctor


def _schedule_clinics(user, doctor: Doctor) -> list[Clinic]:
    """The doctor's clinics whose schedule this user manages."""
    return [
        clinic
        for clinic in doctor.clinics.order_by("name", "id")
        if appointment_permissions.can_manage_schedule(user, doctor, clinic.id)
    ]


def _time_of(value: str) -> time | None:
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _weekly_fields(request, *, clinics: list[Clinic]) -> dict:
    """Weekday, start and end (and for working hours: slot length, visit types) from the form."""
    clinic_id = _uuid_or_none(request.POST.get("clinic"))
    clinic = next((c for c in clinics if c.id == clinic_id), clinics[0] if len(clinics) == 1 else None)
    fields: dict = {}
    if clinic is None:
        fields["clinic"] = [_("Choose the clinic.")]
    try:
        weekday = int(request.POST.get("weekday", ""))
    except ValueError:
        weekday = -1
    if weekday not in Weekday.values:
        fields["weekday"] = [_("Choose the day.")]
    start_time, end_time = _time_of(request.POST.get("start_time", "")), _time_of(request.POST.get("end_time", ""))
    if start_time is None or end_time is None:
        fields["start_time"] = [_("Give the start and the end as hours and minutes.")]
    if fields:
        raise ValidationFailed(fields=fields)
    return {"clinic": clinic, "weekday": weekday, "start_time": start_time, "end_time": end_time}


def _hours_extra(request) -> dict:
    try:
        slot_minutes = int(request.POST.get("slot_minutes", "30"))
    except ValueError:
        raise ValidationFailed(fields={"slot_minutes": [_("Between 5 and 240 minutes.")]}) from None
    return {"slot_minutes": slot_minutes, "visit_types": request.POST.getlist("visit_types")}


@portal_page
def schedule(request, doctor_id):
    """The weekly working hours and breaks of one doctor: listed, added, changed and removed."""
    user = _portal_user(request)
    doctor = _schedule_doctor(user, doctor_id)
    clinics = _schedule_clinics(user, doctor)
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op == "hours-add":
                fields = _weekly_fields(request, clinics=clinics)
                appointment_services.working_hours_create(actor=user, doctor=doctor, **fields, **_hours_extra(request))
            elif op in {"hours-update", "hours-delete"}:
                hours = get_object_or_404(
                    appointment_selectors.working_hours_list(doctor=doctor).select_related("doctor", "clinic"),
                    pk=_uuid_or_none(request.POST.get("id")),
                )
                if op == "hours-delete":
                    appointment_services.working_hours_delete(actor=user, hours=hours)
                else:
                    fields = _weekly_fields(request, clinics=[hours.clinic])
                    fields.pop("clinic")
                    appointment_services.working_hours_update(
                        actor=user, hours=hours, **fields, **_hours_extra(request)
                    )
            elif op == "break-add":
                appointment_services.break_create(actor=user, doctor=doctor, **_weekly_fields(request, clinics=clinics))
            elif op == "break-delete":
                pause = get_object_or_404(
                    appointment_selectors.break_list(doctor=doctor).select_related("doctor", "clinic"),
                    pk=_uuid_or_none(request.POST.get("id")),
                )
                appointment_services.break_delete(actor=user, pause=pause)
            else:
                raise Http404
            messages.success(request, _("Saved. New bookings follow the new schedule at once."))
        except ApplicationError as exc:
            _report(request, exc)
        return redirect("portal:schedule", doctor_id=doctor.id)
    return render(
        request,
        "portal/schedule.html",
        {
            "doctor": doctor,
            "clinics": clinics,
            "hours": appointment_selectors.working_hours_list(doctor=doctor).select_related("clinic"),
            "breaks": appointment_selectors.break_list(doctor=doctor).select_related("clinic"),
            "weekdays": Weekday.choices,
            "visit_types": VisitType.choices,
        },
    )


@portal_page
def time_off(request, doctor_id):
    """Time off of one doctor. Booked visits inside it are shown first; only a second, explicit
    step cancels them, and each patient is told."""
    user = _portal_user(request)
    doctor = _schedule_doctor(user, doctor_id)
    zone = _home_zone(user)
    conflicts = None
    form = {"start": "", "end": "", "reason": ""}
    if request.method == "POST" and request.POST.get("op") == "delete":
        found = get_object_or_404(
            appointment_selectors.time_off_list(doctor=doctor).select_related("doctor"),
            pk=_uuid_or_none(request.POST.get("id")),
        )
        try:
            appointment_services.time_off_delete(actor=user, time_off=found)
            messages.success(request, _("Saved. New bookings follow the new schedule at once."))
        except ApplicationError as exc:
            _report(request, exc)
        return redirect("portal:time-off", doctor_id=doctor.id)
    if request.method == "POST":
        form = {key: request.POST.get(key, "").strip() for key in form}
        start, end = _parse_local(form["start"], zone), _parse_local(form["end"], zone)
        try:
            if start is None or end is None:
                raise ValidationFailed(fields={"start": [_("Give the start and the end as a date and a time.")]})
            _time_off, cancelled = appointment_services.time_off_create(
                actor=user,
                doctor=doctor,
                start=start,
                end=end,
                reason=form["reason"][:200],
                cancel_appointments=request.POST.get("cancel_appointments") == "1",
            )
            if cancelled:
                messages.success(
                    request,
                    ngettext(
                        "Time off saved; %(count)d appointment cancelled and its patient told.",
                        "Time off saved; %(count)d appointments cancelled and their patients told.",
                        cancelled,
                    )
                    % {"count": cancelled},
                )
            else:
                messages.success(request, _("Time off saved."))
            return redirect("portal:time-off", doctor_id=doctor.id)
        except SlotUnavailable as exc:
            conflicts = list(appointment_selectors.booked_inside(viewer=user, doctor=doctor, start=start, end=end))
            if not conflicts:
                _report(request, exc)
        except ApplicationError as exc:
            _report(request, exc)
    return render(
        request,
        "portal/time_off.html",
        {
            "doctor": doctor,
            "zone": zone.key,
            "form": form,
            "conflicts": conflicts,
            "time_off": appointment_selectors.time_off_list(doctor=doctor, ending_after=timezone.now()),
        },
        status=409 if conflicts else 200,
    )


@portal_page
def shared_profiles(request):
    user = _portal_user(request)
    if not user.is_doctor:
        raise PermissionDenied
    return render(request, "portal/shared_profiles.html", {"shares": health_selectors.shared_profile_list(viewer=user)})


@portal_page
def patient_health_profile(request, patient_id):
    user = _portal_user(request)
    try:
        share, entries = health_services.shared_profile_read(
            viewer=user, patient_id=patient_id, context=act_context(request, channel="portal")
        )
    except ApplicationError:
        raise Http404 from None
    return render(
        request,
        "portal/health_profile.html",
        {"share": share, "groups": health_selectors.grouped(entries)},
    )


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    form_class = PortalLoginForm
    redirect_authenticated_user = True


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The link a new doctor or staff member gets by e-mail."""

    template_name = "portal/password_set.html"
    success_url = reverse_lazy("portal:login")
    post_reset_login = False
