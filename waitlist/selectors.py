"""Reads of the waitlist: a patient's entries with their open offer, and the held time that slot
computation counts as busy."""

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import acted_for_filter
from medplatform.errors import NotFound
from waitlist.models import WaitlistEntry, WaitlistOffer


def waitlist_list(*, viewer: User) -> QuerySet[WaitlistEntry]:
    """The viewer's entries and their dependants', newest first, each with `open_offers` (zero or
    one) and the claimed offer's appointment in `claimed_offers`: three queries for a page."""
    if not viewer.is_authenticated:
        return WaitlistEntry.objects.none()
    return (
        WaitlistEntry.objects.filter(acted_for_filter(viewer))
        .select_related("doctor__user")
        .prefetch_related(
            Prefetch(
                "offers",
                queryset=WaitlistOffer.objects.filter(
                    status__in=[WaitlistOffer.Status.OPEN, WaitlistOffer.Status.CLAIMED]
                )
                .select_related("clinic")
                .order_by("-created_at"),
                to_attr="shown_offers",
            )
        )
        .order_by("-created_at", "-id")
    )


def waitlist_get(*, viewer: User, entry_id) -> WaitlistEntry:
    """One entry the viewer may act for, or not_found (never permission_denied)."""
    entry = waitlist_list(viewer=viewer).filter(pk=entry_id).first()
    if entry is None:
        raise NotFound()
    return entry


def held_rows(doctor_ids, *, start, end, for_patient=None) -> QuerySet[WaitlistOffer]:
    """Open offers of `doctor_ids` overlapping [start, end): busy time for everybody but their own
    patient (appointments.held_time). An offer stays open until it is claimed, withdrawn or swept
    after its expiry, so a lapsed hold passes to the next in line before anybody else can book."""
    rows = WaitlistOffer.objects.filter(
        doctor_id__in=doctor_ids, status=WaitlistOffer.Status.OPEN, start__lt=end, end__gt=start
    )
    if for_patient is not None:
        rows = rows.exclude(patient_id=for_patient.pk)
    return rows


def rows_held_for_booking(patient: User) -> int:
    """Entries still waiting or offered, and open offers: none may outlive the booking consent."""
    entries = WaitlistEntry.objects.filter(patient=patient, status__in=WaitlistEntry.ACTIVE).count()
    offers = WaitlistOffer.objects.filter(patient=patient, status=WaitlistOffer.Status.OPEN).count()
    return entries + offers


def waitlist_privacy_summary(user: User) -> list[dict]:
    entries = WaitlistEntry.objects.filter(patient=user)
    count = entries.count()
    if not count:
        return []
    return [
        {
            "data": _("Your places on doctors' waitlists (%(n)d): doctor, days, status and the slots held for you")
            % {"n": count},
            "purpose": _("Offering you a freed slot in your turn"),
            "legal_basis": _("KVKK Art. 6: explicit consent (appointment_health_data)"),
            "recipients": [],
        }
    ]
