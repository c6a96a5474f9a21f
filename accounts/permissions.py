"""Who may do what with accounts, clinics and doctors. API, portal and services call these."""

from django.db.models import Q, QuerySet
from rest_framework.permissions import BasePermission

from accounts.models import Clinic, ClinicMembership, Guardianship, User
from medplatform.errors import NotFound


def is_clinic_admin(user: User, clinic: Clinic) -> bool:
    return user.is_authenticated and (
        user.is_platform_admin
        or ClinicMembership.objects.filter(user=user, clinic=clinic, role=ClinicMembership.Role.ADMIN).exists()
    )


def can_manage_exemptions(user: User, clinic: Clinic) -> bool:
    """The clinic's staff (admin or receptionist) and platform admins mark patients exempt."""
    return user.is_authenticated and (user.is_platform_admin or is_clinic_member(user, clinic.pk))


def is_clinic_member(user: User, clinic_id) -> bool:
    return user.is_authenticated and ClinicMembership.objects.filter(user=user, clinic_id=clinic_id).exists()


def staff_clinic_ids(user: User) -> list:
    if not user.is_authenticated or not user.is_clinic_staff:
        return []
    return list(ClinicMembership.objects.filter(user=user).values_list("clinic_id", flat=True))


def dependants_of(user: User) -> QuerySet:
    """Ids of the patients `user` is the guardian of, through an active guardianship."""
    return Guardianship.objects.filter(guardian_id=user.pk, ended_at__isnull=True).values("dependant_id")


def acted_for_filter(user: User, field: str = "patient") -> Q:
    """The query form of can_act_for: rows whose `field` is a patient `user` may act for."""
    if not user.is_authenticated or not user.is_patient:
        return Q(pk__in=[])
    return Q(**{f"{field}_id": user.pk}) | Q(**{f"{field}_id__in": dependants_of(user)})


def can_act_for(user: User, patient_id) -> bool:
    """May `user` act as the patient `patient_id`: the patient themself, or the guardian of an
    active guardianship of theirs. Every view and service that takes a `patient` asks this."""
    if not user.is_authenticated or not user.is_patient or patient_id is None:
        return False
    if str(patient_id) == str(user.pk):
        return True  # the same answer acted_for_filter gives, without a query
    return dependants_of(user).filter(dependant_id=patient_id).exists()


def guardian_of(patient: User) -> User | None:
    """The guardian acting for `patient` through an active guardianship, if any."""
    if patient.has_usable_password():
        return None  # a dependant has no login of their own: no query for everyone else
    guardianship = Guardianship.objects.filter(dependant=patient, ended_at__isnull=True).select_related("guardian")
    return next((g.guardian for g in guardianship[:1]), None)


def acting_patient(actor: User, patient_id=None) -> User:
    """The patient a request acts for: `patient` when sent (a dependant of the actor's, or the
    actor), else the actor. Anyone else's id, another family's dependant included, is not_found."""
    if patient_id is None or str(patient_id) == str(actor.pk):
        return actor
    if not can_act_for(actor, patient_id):
        raise NotFound()
    return User.objects.get(pk=patient_id)


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
