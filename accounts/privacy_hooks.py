"""The accounts app's privacy contract (see privacy.contract): the account itself.

Account erasure strips these fields in privacy.subject_rights.account_erase; the account's
retention is the account's life (the owner erases it), so no periodic rule applies to it. Spent
verification codes (keyed hashes only) go a day after they expire.
"""

from datetime import timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ContactVerification
from privacy import retention
from privacy.contract import Contract, RetentionAction, RetentionRule


def expired_verifications(now, *, dry_run: bool = False) -> int:
    expired = ContactVerification.objects.filter(expires_at__lt=now - timedelta(days=1))
    return retention.delete_and_count(expired, dry_run=dry_run)


def account_summary(user) -> list[dict]:
    return [
        {
            "data": _("Account: name, e-mail, phone, language") + (_(", TC Kimlik No") if user.national_id else ""),
            "purpose": _("Running your account and your appointments"),
            "legal_basis": _("KVKK Art. 5/2(c): necessary for the performance of a contract"),
            "recipients": [],
        }
    ]


def account_export(user) -> dict:
    return {
        "patient": {
            "id": str(user.pk),
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "phone": str(user.phone) if user.phone else "",
            "language": user.language,
            "national_id": user.national_id,
            "role": user.role,
            "created_at": user.created_at.isoformat(),
        }
    }


CONTRACT = Contract(
    app="accounts",
    summary=account_summary,
    export=account_export,
    retention={
        "accounts.account": RetentionRule(
            kind=gettext_lazy("Your account: name, e-mail, phone, language, TC Kimlik No"),
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
