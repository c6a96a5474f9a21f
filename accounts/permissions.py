"""Who may do what with accounts, clinics and doctors. API, portal and services call these."""

from rest_framework.permissions import BasePermission

from accounts.models import Clinic, ClinicMembership, User


def is_clinic_admin(user: User, clinic: Clinic) -> bool:
    return user.is_authenticated and (
        user.is_platform_admin
        or ClinicMembership.objects.filter(user=user, clinic=clinic, role=ClinicMembership.Role.ADMIN).exists()
    )


def is_clinic_member(user: User, clinic_id) -> bool:
    return user.is_authenticated and ClinicMembership.objects.filter(user=user, clinic_id=clinic_id).exists()


def staff_clinic_ids(user: User) -> list:
    if not user.is_authenticated or not user.is_clinic_staff:
        return []
    return list(ClinicMembership.objects.filter(user=user).values_list("clinic_id", flat=True))


class IsPatient(BasePermission):
    """Only patients."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_patient)


class IsDoctor(BasePermission):
    """Only doctors."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_doctor)


class IsPlatformAdmin(BasePermission):
    """Only platform admins."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_platform_admin)
