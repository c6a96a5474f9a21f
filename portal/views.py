"""Server-rendered pages for doctors and clinic staff: two skins, one set of rules. Every page
calls the same selectors, services and permission functions as the API."""

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
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from accounts import second_factor
from accounts.login_forms import PortalLoginForm
from appointments import selectors as appointment_selectors
from appointments import services as appointment_services
from health_profiles import selectors as health_selectors
from health_profiles import services as health_services
from medplatform.errors import ApplicationError
from privacy.context import act_context


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


def _week_window(request) -> tuple[datetime, datetime, str]:
    zone = ZoneInfo(settings.DEFAULT_CLINIC_TIMEZONE)
    try:
        first = date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        first = timezone.localdate(timezone=zone)
    start = datetime.combine(first, time.min, tzinfo=zone)
    return start, start + timedelta(days=7), first.isoformat()


@portal_page
def agenda(request):
    user = _portal_user(request)
    start, end, first = _week_window(request)
    appointments = appointment_selectors.appointment_list(viewer=user, start_from=start, start_to=end)
    return render(
        request,
        "portal/agenda.html",
        {
            "appointments": appointments,
            "first": first,
            "previous": (start - timedelta(days=7)).date().isoformat(),
            "next": end.date().isoformat(),
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
    return render(
        request,
        "portal/appointment.html",
        {"appointment": appointment, "history": appointment_selectors.appointment_history(appointment=appointment)},
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
        elif action == "complete":
            appointment_services.appointment_complete(appointment=appointment, actor=user)
        elif action == "no-show":
            appointment_services.appointment_mark_no_show(appointment=appointment, actor=user)
        else:
            raise Http404
        messages.success(request, _("Saved."))
    except ApplicationError as exc:
        messages.error(request, str(exc.detail))
    return redirect("portal:appointment", appointment_id=appointment.id)


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
