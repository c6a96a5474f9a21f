"""The accounts app's privacy contract (see privacy.contract): the account itself.

Account erasure strips these fields in privacy.subject_rights.account_erase; the account's
retention is the account's life (the owner erases it), so no periodic rule applies here.
"""

from django.utils.translation import gettext as _

from privacy.contract import Contract


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


CONTRACT = Contract(app="accounts", summary=account_summary, export=account_export)
