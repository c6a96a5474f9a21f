"""What the health-profile consents do on grant and on withdrawal (registered in apps.py).

Each runs inside the consent service's transaction: if it raises, the consent event is not
recorded either; when a withdrawal returns, the data is gone and the doctor's access has ended.
"""

from django.utils.translation import gettext as _

from health_profiles.models import Category, HealthEntry, ShareGrant
from medplatform.errors import ConsentRequired, ValidationFailed
from medplatform.middleware import current_request_id
from privacy.context import ActContext
from privacy.data_keys import data_keys_destroy
from privacy.guard import consent_hold
from privacy.models import ConsentEvent, PatientDataKey, Purpose
from privacy.services import consent_active_grants, consent_withdraw


def share_granted(grant: ConsentEvent) -> None:
    """Create the grant a doctor's reads are checked against.

    A share needs an active storage consent: sharing is a use of stored data, and withdrawing
    storage ends every share, so a share without storage would be a grant nothing backs.
    """
    if not grant.categories:
        # Explicit consent is specific (KVKK Art. 6): no category chosen is not "everything".
        raise ValidationFailed(fields={"categories": [_("Choose at least one category to share.")]})
    unknown = [category for category in grant.categories if category not in Category.values]
    if unknown:
        raise ValidationFailed(fields={"categories": [_("Unknown category.")]})
    if grant.doctor is None or not grant.doctor.is_active:
        raise ValidationFailed(fields={"doctor": [_("Choose an active doctor.")]})
    try:
        consent_hold(subject=grant.subject, purpose=Purpose.HEALTH_PROFILE_STORAGE)
    except ConsentRequired as exc:
        raise ConsentRequired(
            _("Give the health-profile storage consent before sharing your profile."),
            purpose=Purpose.HEALTH_PROFILE_STORAGE,
        ) from exc
    ShareGrant.objects.create(
        patient=grant.subject,
        doctor=grant.doctor,
        categories=grant.categories,
        expires_at=grant.expires_at,
        consent=grant,
    )


def share_withdrawn(grant: ConsentEvent) -> dict:
    """The doctor's access ends with the grant row; nothing else is kept for that doctor."""
    deleted, _per_model = ShareGrant.objects.filter(consent=grant).delete()
    return {"share_grants_deleted": deleted}


def storage_withdrawn(grant: ConsentEvent) -> dict:
    """Delete every entry and every share of the patient.

    Open share consents are withdrawn too (each with its own withdrawal event and audit entry),
    so the consent list never shows a share that no longer exists as still given.
    """
    patient = grant.subject
    still_given = consent_active_grants(subject=patient, purpose=Purpose.HEALTH_PROFILE_STORAGE).first()
    if still_given is not None:
        # An older grant withdrawn after the patient agreed to a newer notice version: the data is
        # stored under that newer consent, which this withdrawal does not touch.
        return {"entries_deleted": 0, "share_grants_deleted": 0, "kept_under_consent": str(still_given.id)}
    cascade_context = ActContext(channel="cascade", request_id=current_request_id())
    shares_before = ShareGrant.objects.filter(patient=patient).count()
    open_shares = ConsentEvent.objects.filter(
        subject=patient,
        purpose=Purpose.HEALTH_PROFILE_SHARE,
        action=ConsentEvent.Action.GRANT,
        withdrawal__isnull=True,
    ).values_list("id", flat=True)
    share_consents_withdrawn = 0
    # The shares' withdrawal events name the same actor as this one (the patient or a guardian).
    withdrawal = ConsentEvent.objects.filter(grant=grant).select_related("actor").first()
    actor = withdrawal.actor if withdrawal is not None else None
    for share_consent_id in list(open_shares):
        consent_withdraw(subject=patient, grant_id=share_consent_id, context=cascade_context, actor=actor)
        share_consents_withdrawn += 1
    # Expired shares and shares on an outdated notice have no open consent but still have rows.
    ShareGrant.objects.filter(patient=patient).delete()
    entries_deleted, _per_model = HealthEntry.objects.filter(patient=patient).delete()
    # Crypto-shredding: the entries' copies in backups can no longer be decrypted either.
    keys_destroyed = data_keys_destroy(patient=patient, scopes=[PatientDataKey.Scope.HEALTH_PROFILE])
    return {
        "entries_deleted": entries_deleted,
        "share_grants_deleted": shares_before,
        "share_consents_withdrawn": share_consents_withdrawn,
        "data_keys_destroyed": keys_destroyed,
    }
