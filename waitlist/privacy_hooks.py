"""The waitlist's privacy contract (see privacy.contract). Its data is kept under the booking
consent (appointment_health_data), whose cascade appointments owns: the waitlist adds its step to
it (waitlist.apps: appointments.consent.also_under_booking_consent). Nobody else receives it: the
doctor and the clinic never see who waits."""

from django.utils.translation import gettext_lazy as _

from appointments.serializers import in_clinic_zone
from privacy.contract import Contract, RetentionAction, RetentionRule
from waitlist import retention
from waitlist.models import WaitlistEntry
from waitlist.selectors import waitlist_privacy_summary
from waitlist.services import waitlist_erase

RETENTION = {
    "waitlist.entries": RetentionRule(
        kind=_("Waitlist entries (doctor, days, status) and the slots held for them"),
        models=("waitlist.WaitlistEntry", "waitlist.WaitlistOffer"),
        from_event=_("the end of the entry (claimed, expired or left)"),
        action=RetentionAction.DESTROY,
        period_setting="WAITLIST_RETENTION_DAYS",
        run=retention.ended_entries,
    ),
}


def waitlist_export(user) -> dict:
    entries = (
        WaitlistEntry.objects.filter(patient=user)
        .select_related("doctor__user")
        .prefetch_related("offers__clinic")
        .order_by("created_at", "id")
    )
    return {
        "waitlist": [
            {
                "id": str(entry.id),
                "doctor": str(entry.doctor_id),
                "doctor_name": entry.doctor.name,
                "from": entry.first_day.isoformat(),
                "to": entry.last_day.isoformat(),
                "status": entry.status,
                "joined_at": entry.created_at.isoformat(),
                "offers": [
                    {
                        "start": in_clinic_zone(offer.start, offer.clinic.timezone),
                        "end": in_clinic_zone(offer.end, offer.clinic.timezone),
                        "clinic": str(offer.clinic_id),
                        "expires_at": in_clinic_zone(offer.expires_at, offer.clinic.timezone),
                        "status": offer.status,
                        "appointment": str(offer.appointment_id) if offer.appointment_id else None,
                    }
                    for offer in entry.offers.all()
                ],
            }
            for entry in entries
        ]
    }


CONTRACT = Contract(
    app="waitlist",
    retention=RETENTION,
    summary=waitlist_privacy_summary,
    export=waitlist_export,
    erasure=lambda user, context: waitlist_erase(patient=user),
)
