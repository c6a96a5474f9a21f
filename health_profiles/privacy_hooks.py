"""The health-profile app's privacy contract (see privacy.contract)."""

from health_profiles.consent import share_granted, share_withdrawn, storage_withdrawn
from health_profiles.models import HealthEntry, ShareGrant
from health_profiles.retention import expired_share_grants
from health_profiles.selectors import entry_list, grouped, health_profile_privacy_summary
from health_profiles.serializers import grouped_output
from privacy.contract import Contract, PurposeRules
from privacy.models import ConsentEvent, Purpose


def profile_rows_held(grant: ConsentEvent) -> int:
    """Entries and shares of the patient: the storage consent holds all of them."""
    patient = grant.subject
    return HealthEntry.objects.filter(patient=patient).count() + ShareGrant.objects.filter(patient=patient).count()


def share_rows_held(grant: ConsentEvent) -> int:
    return ShareGrant.objects.filter(consent=grant).count()


def health_profile_export(user) -> dict:
    shares = ShareGrant.objects.filter(patient=user).select_related("doctor__user").order_by("created_at", "id")
    return {
        "health_profile": grouped_output(grouped(entry_list(viewer=user))),
        "shares": [
            {
                "doctor": str(share.doctor_id),
                "doctor_name": share.doctor.name,
                "categories": share.categories,
                "expires_at": share.expires_at.isoformat() if share.expires_at else None,
                "consent": str(share.consent_id),
            }
            for share in shares
        ],
    }


CONTRACT = Contract(
    app="health_profiles",
    purposes={
        Purpose.HEALTH_PROFILE_STORAGE: PurposeRules(on_withdraw=storage_withdrawn, held_rows=profile_rows_held),
        Purpose.HEALTH_PROFILE_SHARE: PurposeRules(
            on_withdraw=share_withdrawn, on_grant=share_granted, held_rows=share_rows_held
        ),
    },
    retention={"health_profiles.expired_share_grants": expired_share_grants},
    summary=health_profile_privacy_summary,
    export=health_profile_export,
)
