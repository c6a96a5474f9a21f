from django.db.models import QuerySet

from accounts.models import Clinic, ClinicInvitation, ClinicMembership, Doctor, Specialty, User


def specialty_list() -> QuerySet[Specialty]:
    return Specialty.objects.all()


def staff_clinic_list(*, viewer: User) -> QuerySet[Clinic]:
    """The clinics a clinic staff member works for (none for anyone else)."""
    if not (viewer.is_authenticated and viewer.is_clinic_staff):
        return Clinic.objects.none()
    return Clinic.objects.filter(id__in=ClinicMembership.objects.filter(user=viewer).values("clinic_id")).order_by(
        "name", "id"
    )


def staff_doctor_list(*, viewer: User) -> QuerySet[Doctor]:
    """The doctors of the clinics a staff member works for, each once."""
    return (
        Doctor.objects.filter(clinics__in=staff_clinic_list(viewer=viewer))
        .distinct()
        .select_related("user", "specialty")
        .order_by("user__last_name", "user__first_name", "id")
    )


def clinic_list() -> QuerySet[Clinic]:
    return Clinic.objects.all()


def clinic_invitation_list(*, user: User) -> QuerySet[ClinicInvitation]:
    """The user's own clinic invitations, newest first."""
    return ClinicInvitation.objects.filter(user=user).select_related("clinic").order_by("-created_at", "id")
