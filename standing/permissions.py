"""Who may see and decide what. Every view and service asks these (and their query forms)."""

from django.db.models import Q

from accounts.models import ClinicMembership, User
from accounts.permissions import acted_for_filter, can_act_for


def strikes_visible_filter(user: User) -> Q:
    """Strikes (and through them appeals) of the patients `user` acts for: their own and their
    dependants'."""
    return acted_for_filter(user, "patient")


def can_appeal(user: User, strike) -> bool:
    return can_act_for(user, strike.patient_id)


def appeals_decidable_filter(user: User, prefix: str = "") -> Q:
    """The query form of `can_decide_appeal`: appeals of strikes at a clinic `user` is staff of."""
    if not user.is_authenticated or not user.is_clinic_staff:
        return Q(pk__in=[])
    return Q(**{f"{prefix}strike__clinic_id__in": ClinicMembership.objects.filter(user=user).values("clinic_id")})


def can_decide_appeal(user: User, appeal) -> bool:
    """Clinic staff (admin or receptionist) of the clinic that recorded the strike."""
    return (
        user.is_authenticated
        and user.is_clinic_staff
        and ClinicMembership.objects.filter(user=user, clinic_id=appeal.strike.clinic_id).exists()
    )
