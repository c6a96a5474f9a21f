"""The health-profile app's privacy contract (see privacy.contract)."""

from django.utils.translation import gettext_lazy as _

from health_profiles.consent import share_granted, share_withdrawn, storage_withdrawn
from health_profiles.models import HealthEntry, ShareGrant
from health_profiles.retention import expired_share_grants
from health_profiles.selectors import entry_list, grouped, health_profile_privacy_summary
from health_profiles.serializers import grouped_output
from medplatform.date_fields import clinic_time
from privacy.contract import Contract, PurposeRules, RetentionAction, RetentionRule
from privacy.models import ConsentEvent, Purpose

RETENTION = {
    "health_profiles.entries": RetentionRule(
        kind=_("Health profile: allergies, medications, conditions, treatments"),
        models=("health_profiles.HealthEntry",),
        from_event=_("the withdrawal of the storage consent or the erasure of the account"),
        action=RetentionAction.DESTROY,
        period_text=_("while the storage consent is in force"),
        run=None,
    ),
    "health_profiles.expired_share_grants": RetentionRule(
        kind=_("Shares of your health profile with a doctor"),
        models=("health_profiles.ShareGrant",),
        from_event=_("the end of the share: its expiry, or the set number of days after your last visit"),
        action=RetentionAction.DESTROY,
        period_days=0,
        run=expired_share_grants,
    ),
}


def share_recipients(user) -> list[dict]:
    """The doctors the patient ever shared the health profile with (from the share consents, which
    outlive the share rows: a withdrawal or an erasure deletes those)."""
    grants = (
        ConsentEvent.objects.filter(
            subject=user, purpose=Purpose.HEALTH_PROFILE_SHARE, action=ConsentEvent.Action.GRANT, doctor__isnull=False
        )
        .select_related("doctor__user")
        .order_by("created_at", "id")
    )
    seen, recipients = set(), []
    for grant in grants:
        if grant.doctor_id not in seen:
            seen.add(grant.doctor_id)
            recipients.append({"kind": "doctor", "name": grant.doctor.name, "users": [grant.doctor.user]})
    return recipients


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
                "expires_at": clinic_time(share.expires_at) if share.expires_at else None,
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
    retention=RETENTION,
    summary=health_profile_privacy_summary,
    recipients=share_recipients,
    export=health_profile_export,
)
