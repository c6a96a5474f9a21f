"""The accounts app's privacy contract (see privacy.contract): the account itself.

Account erasure strips these fields in privacy.subject_rights.account_erase; the account's
retention is the account's life (the owner erases it), so no periodic rule applies to it. Spent
verification codes (keyed hashes only) go a day after they expire. Guardianships are the record
of who acted for whom and stay while the dependant's account does; handover invitations (no
token stored) go 30 days after they expire. Clinic invitations go 90 days after they are
answered; a pending one stays until it is answered (or the account goes). A clinic's exemption
of a patient (from the release of unconfirmed visits and from no-show strikes) stays while the
clinic keeps it and goes with the account, as does the birth date.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.exemptions import exemptions_erase
from accounts.models import ClinicExemption, ClinicInvitation, ContactVerification, Guardianship, HandoverInvitation
from medplatform.date_fields import clinic_time
from privacy import retention
from privacy.contract import Contract, RetentionAction, RetentionRule


def expired_verifications(now, *, dry_run: bool = False) -> int:
    expired = ContactVerification.objects.filter(expires_at__lt=now - timedelta(days=1))
    return retention.delete_and_count(expired, dry_run=dry_run)


def spent_handover_invitations(now, *, dry_run: bool = False) -> int:
    spent = HandoverInvitation.objects.filter(expires_at__lt=now - timedelta(days=30))
    return retention.delete_and_count(spent, dry_run=dry_run)


def answered_clinic_invitations(now, *, dry_run: bool = False) -> int:
    answered = ClinicInvitation.objects.exclude(status=ClinicInvitation.Status.PENDING).filter(
        responded_at__lt=now - timedelta(days=90)
    )
    return retention.delete_and_count(answered, dry_run=dry_run)


def clinic_invitation_export(user) -> list[dict]:
    """The invitations the user received to work at a clinic (who invited them is the clinic's)."""
    return [
        {
            "id": str(invitation.id),
            "clinic": invitation.clinic.name,
            "kind": invitation.kind,
            "staff_role": invitation.staff_role,
            "status": invitation.status,
            "created_at": clinic_time(invitation.created_at, invitation.clinic.timezone),
            "responded_at": clinic_time(invitation.responded_at, invitation.clinic.timezone)
            if invitation.responded_at
            else None,
        }
        for invitation in ClinicInvitation.objects.filter(user=user).select_related("clinic").order_by("created_at")
    ]


def _guardianship_row(guardianship: Guardianship, other) -> dict:
    return {
        "id": str(guardianship.id),
        "person": str(other.pk),
        "name": other.full_name,
        "relationship": guardianship.relationship,
        "birth_date": guardianship.birth_date.isoformat(),
        "authority_type": guardianship.authority_type,
        "authority_reference": guardianship.authority_reference,
        "started_at": guardianship.started_at.isoformat(),
        "ended_at": guardianship.ended_at.isoformat() if guardianship.ended_at else None,
        "end_reason": guardianship.end_reason,
    }


def guardianship_export(user) -> dict:
    """The dependants in the user's care, and the guardians who acted (or act) for the user."""
    as_guardian = Guardianship.objects.filter(guardian=user).select_related("dependant")
    as_dependant = Guardianship.objects.filter(dependant=user).select_related("guardian")
    return {
        "dependants": [_guardianship_row(g, g.dependant) for g in as_guardian],
        "guardians": [_guardianship_row(g, g.guardian) for g in as_dependant],
    }


def guardianships_end(user, context) -> int:
    """An erased guardian can act for nobody: their active guardianships end (the rows stay as the
    record of who acted for whom; the dependant's own data stays with the dependant)."""
    now = timezone.now()
    return Guardianship.objects.filter(guardian=user, ended_at__isnull=True).update(
        ended_at=now, end_reason=Guardianship.EndReason.ACCOUNT_ERASED, updated_at=now
    )


def account_erasure(user, context) -> None:
    guardianships_end(user, context)
    exemptions_erase(user)


def exemption_export(user) -> list[dict]:
    """The clinics that marked the user exempt, and why (a category)."""
    return [
        {
            "clinic": exemption.clinic.name,
            "reason": exemption.reason,
            "created_at": clinic_time(exemption.created_at, exemption.clinic.timezone),
        }
        for exemption in ClinicExemption.objects.filter(patient=user).select_related("clinic").order_by("created_at")
    ]


def account_summary(user) -> list[dict]:
    return [
        {
            "data": _("Account: name, e-mail, phone, language")
            + (_(", TC Kimlik No") if user.national_id else "")
            + (_(", birth date") if user.birth_date else ""),
            "purpose": _("Running your account and your appointments"),
            "legal_basis": _("KVKK Art. 5/2(c): necessary for the performance of a contract"),
            "recipients": [],
        }
    ]


def account_export(user) -> dict:
    return {
        **guardianship_export(user),
        "clinic_invitations": clinic_invitation_export(user),
        "clinic_exemptions": exemption_export(user),
        "patient": {
            "id": str(user.pk),
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "phone": str(user.phone) if user.phone else "",
            "language": user.language,
            "national_id": user.national_id,
            "birth_date": user.birth_date.isoformat() if user.birth_date else None,
            "role": user.role,
            "created_at": clinic_time(user.created_at),
        },
    }


CONTRACT = Contract(
    app="accounts",
    summary=account_summary,
    export=account_export,
    erasure=account_erasure,
    retention={
        "accounts.account": RetentionRule(
            kind=gettext_lazy("Your account: name, e-mail, phone, language, TC Kimlik No, birth date"),
            models=("accounts.User",),
            from_event=gettext_lazy("the erasure of the account (at your request)"),
            action=RetentionAction.ANONYMISE,
            period_text=gettext_lazy("while you have an account"),
            run=None,
        ),
        "accounts.professional_profiles": RetentionRule(
            kind=gettext_lazy("Doctors' profiles and clinic staff memberships"),
            models=("accounts.Doctor", "accounts.ClinicMembership"),
            from_event=gettext_lazy("the end of the work with the platform (removed by the platform admin)"),
            action=RetentionAction.DESTROY,
            period_text=gettext_lazy("while the doctor or staff member works with the platform"),
            run=None,
        ),
        "accounts.guardianships": RetentionRule(
            kind=gettext_lazy("Guardianships: who acts for a dependant, on what authority, from when to when"),
            models=("accounts.Guardianship",),
            from_event=gettext_lazy("the erasure of the dependant's account"),
            action=RetentionAction.ANONYMISE,
            period_text=gettext_lazy("while the dependant has an account (the record of who acted for them)"),
            run=None,
        ),
        "accounts.clinic_exemptions": RetentionRule(
            kind=gettext_lazy(
                "A clinic's exemption of you from the release of unconfirmed visits and from no-show "
                "strikes, with its reason (a category) and who recorded it"
            ),
            models=("accounts.ClinicExemption",),
            from_event=gettext_lazy("its removal by the clinic, or the erasure of the account"),
            action=RetentionAction.DESTROY,
            period_text=gettext_lazy("while the clinic keeps the exemption"),
            run=None,
        ),
        "accounts.handover_invitations": RetentionRule(
            kind=gettext_lazy("Invitations to take over an account at 18 (no token is stored)"),
            models=("accounts.HandoverInvitation",),
            from_event=gettext_lazy("the expiry of the invitation"),
            action=RetentionAction.DESTROY,
            period_days=30,
            run=spent_handover_invitations,
        ),
        "accounts.clinic_invitations": RetentionRule(
            kind=gettext_lazy("Invitations of a doctor or staff member to work at another clinic"),
            models=("accounts.ClinicInvitation",),
            from_event=gettext_lazy("the answer to the invitation (accepted or declined)"),
            action=RetentionAction.DESTROY,
            period_days=90,
            run=answered_clinic_invitations,
        ),
        "accounts.expired_verification_codes": RetentionRule(
            kind=gettext_lazy("Contact verification codes (kept as keyed hashes only)"),
            models=("accounts.ContactVerification",),
            from_event=gettext_lazy("the expiry of the code"),
            action=RetentionAction.DESTROY,
            period_days=1,
            run=expired_verifications,
        ),
    },
)
