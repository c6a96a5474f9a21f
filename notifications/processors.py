"""The processors that carry our messages, where they are, and on which legal basis data goes to
them when they are abroad (KVKK Art. 9 as amended in 2024: an adequacy decision, appropriate
safeguards such as the Board's standard contract notified to the Board within five business days,
binding corporate rules, or, occasionally, the person's explicit consent).

A channel whose provider is abroad and whose transfer basis is not configured is disabled: no
message goes out through it (`channel_transfer_allowed`, used by `services._channels_for`). The
console channel stays on this machine and an e-mail provider in Turkey transfers nothing abroad.
"""

from django.conf import settings
from django.core import checks
from django.utils.translation import gettext_lazy as _

from notifications.models import Channel

HOME_COUNTRY = "TR"
TRANSFER_BASES = {
    "adequacy": _("KVKK Art. 9/1: adequacy decision of the Board"),
    "standard_contract": _("KVKK Art. 9/4: standard contract notified to the Board"),
    "binding_corporate_rules": _("KVKK Art. 9/4: binding corporate rules approved by the Board"),
    "explicit_consent": _("KVKK Art. 9/6: your explicit consent"),
}
TWILIO_COUNTRY = "US"


def _basis_label(basis: str) -> str | None:
    return str(TRANSFER_BASES[basis]) if basis in TRANSFER_BASES else None


def twilio_processor() -> dict:
    return {
        "name": "Twilio Inc.",
        "channels": [Channel.SMS, Channel.WHATSAPP],
        "data": str(_("your phone number and the message text (no health data)")),
        "country": TWILIO_COUNTRY,
        "abroad": True,
        "transfer_basis": settings.TWILIO_TRANSFER_BASIS or None,
        "transfer_basis_label": _basis_label(settings.TWILIO_TRANSFER_BASIS),
    }


def email_processor() -> dict:
    country = settings.EMAIL_PROVIDER_COUNTRY.upper()
    abroad = country != HOME_COUNTRY
    return {
        "name": settings.EMAIL_PROVIDER_NAME or str(_("our e-mail provider")),
        "channels": [Channel.EMAIL],
        "data": str(_("your e-mail address, your first name and the message text (no health data)")),
        "country": country,
        "abroad": abroad,
        "transfer_basis": (settings.EMAIL_TRANSFER_BASIS or None) if abroad else None,
        "transfer_basis_label": _basis_label(settings.EMAIL_TRANSFER_BASIS) if abroad else None,
    }


def channel_transfer_allowed(channel: str, *, twilio: bool) -> bool:
    """False for a channel whose provider is abroad without a configured transfer basis."""
    if channel in (Channel.SMS, Channel.WHATSAPP) and twilio:
        return settings.TWILIO_TRANSFER_BASIS in TRANSFER_BASES
    if channel == Channel.EMAIL:
        provider = email_processor()
        return not provider["abroad"] or provider["transfer_basis"] in TRANSFER_BASES
    return True


def transfer_basis_errors() -> list[str]:
    """Configured bases that are not one of TRANSFER_BASES (a typo must not pass as a basis)."""
    errors = []
    for name in ("TWILIO_TRANSFER_BASIS", "EMAIL_TRANSFER_BASIS"):
        value = getattr(settings, name)
        if value and value not in TRANSFER_BASES:
            errors.append(f"{name}={value!r} is not one of {sorted(TRANSFER_BASES)}")
    return errors


@checks.register(checks.Tags.compatibility)
def check_transfer_bases(app_configs, **kwargs):
    return [checks.Error(message, id="notifications.E001") for message in transfer_basis_errors()]
