"""One privacy contract per app (DESIGN.md, "The privacy guard").

Each app that holds personal data declares, in `<app>/privacy_hooks.py`, one `Contract`: the
consent purposes whose data it owns (what a grant and a withdrawal do, and which rows stay held
under a grant), its retention rules, its entries in the privacy summary, its section of the
data export and its erasure step. The app registers it once from its `AppConfig.ready()`.

Privacy imports no domain app: consent withdrawal, erasure, the summary, the export and the
destruction run all read this registry. Start-up fails when a purpose has no cascade.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core import checks
from django.db import models
from django.utils.translation import gettext_lazy as _

from privacy.models import ConsentEvent, Purpose

# fn(now, *, dry_run=False) -> number of rows destroyed (or, in a dry run, that would be)
RetentionRun = Callable[..., int]


class RetentionAction(models.TextChoices):
    DESTROY = "destroy", _("deleted")
    ANONYMISE = "anonymise", _("anonymised: kept without anything that points to you")


@dataclass(frozen=True)
class RetentionRule:
    """One row of the retention table: a kind of personal data, how long it is kept, from which
    event, how it is destroyed, the models it covers (labels, e.g. "appointments.Appointment")
    and `run(now, *, dry_run=False) -> rows`, the step of the daily destruction run.

    The period is `period_days`, or the integer setting named by `period_setting`; a rule with
    neither is event-driven (`period_text` says until when, e.g. "until the consent is
    withdrawn") and its `run`, if any, sweeps what the event should already have removed."""

    kind: str
    models: tuple[str, ...]
    from_event: str
    action: str
    run: RetentionRun | None
    period_days: int | None = None
    period_setting: str | None = None
    period_text: str | None = None

    def days(self) -> int | None:
        if self.period_setting:
            return int(getattr(settings, self.period_setting))
        return self.period_days

    def cutoff(self, now: datetime) -> datetime | None:
        days = self.days()
        return None if days is None else now - timedelta(days=days)

    def period_label(self) -> str:
        days = self.days()
        if days is None:
            return str(self.period_text or "")
        if days == 0:
            return str(_("none: at the next daily run"))
        if days % 365 == 0 and days >= 365:
            return str(_("%(n)d year(s)") % {"n": days // 365})
        return str(_("%(n)d day(s)") % {"n": days})

    @staticmethod
    def action_label(action: str) -> str:
        return RetentionAction(action).label

    def __call__(self, now, *, dry_run: bool = False) -> int:
        return 0 if self.run is None else int(self.run(now, dry_run=dry_run))


# fn(user) -> [{"data", "purpose", "legal_basis", "recipients"}]
SummaryProvider = Callable[[object], list[dict]]
# fn(user) -> {section name: JSON-able data}; part of the data-subject access export
ExportSection = Callable[[object], dict]
# fn(user, context) -> anything: what no consent cascade covers when an account is erased
ErasureStep = Callable[[object, object], object]
# fn(user) -> [{"kind", "user", "name"}]: the doctors and clinic staff who received the user's data
RecipientsProvider = Callable[[object], list[dict]]


@dataclass(frozen=True)
class PurposeRules:
    """What one consent purpose does. `on_withdraw` runs inside the withdrawal's transaction and
    returns counts for the audit entry (no data). `held_rows(grant)` counts the rows still kept
    under that grant: it must be 0 once the grant is withdrawn (the conformance tests check it)."""

    on_withdraw: Callable[[ConsentEvent], dict]
    held_rows: Callable[[ConsentEvent], int]
    on_grant: Callable[[ConsentEvent], None] | None = None


@dataclass(frozen=True)
class Contract:
    app: str
    purposes: Mapping[str, PurposeRules] = field(default_factory=dict)
    retention: Mapping[str, RetentionRule] = field(default_factory=dict)
    summary: SummaryProvider | None = None
    export: ExportSection | None = None
    erasure: ErasureStep | None = None
    # fn(user) -> [{"kind": "doctor"|"clinic", "user": recipient user, "name": str}]: who received
    # the user's data from this app (KVKK Art. 11: told after a correction or an erasure)
    recipients: RecipientsProvider | None = None
    # models that would look personal to the registry walk but hold no personal data: label -> why
    not_personal: Mapping[str, str] = field(default_factory=dict)


_contracts: dict[str, Contract] = {}


def register(contract: Contract) -> None:
    """Called once from the app's ready(); a purpose or a retention rule has one owner."""
    for other in _contracts.values():
        if other.app == contract.app:
            continue
        shared = set(other.purposes) & set(contract.purposes) or set(other.retention) & set(contract.retention)
        if shared:
            raise RuntimeError(f"{contract.app} and {other.app} both register {sorted(shared)}")
    _contracts[contract.app] = contract


def contracts() -> list[Contract]:
    return [_contracts[app] for app in sorted(_contracts)]


def purpose_rules(purpose: str) -> PurposeRules:
    for contract in _contracts.values():
        if purpose in contract.purposes:
            return contract.purposes[purpose]
    raise RuntimeError(f"no withdrawal cascade registered for consent purpose {purpose!r}")


def missing_purposes() -> list[str]:
    owned = {purpose for contract in _contracts.values() for purpose in contract.purposes}
    return [purpose for purpose in Purpose.values if purpose not in owned]


def retention_rules() -> dict[str, RetentionRule]:
    return {name: rule for contract in contracts() for name, rule in contract.retention.items()}


def recipients_providers() -> list[RecipientsProvider]:
    return [contract.recipients for contract in contracts() if contract.recipients is not None]


def covered_models() -> set[str]:
    """Model labels some retention rule covers, or that a contract declares not personal."""
    covered = {label for rule in retention_rules().values() for label in getattr(rule, "models", ())}
    return covered | {label for contract in contracts() for label in contract.not_personal}


def holds_personal_data(model) -> bool:
    """The user model, a model pointing at a user, or one with an encrypted column."""
    from django_cryptography.fields import EncryptedMixin

    if model._meta.label == settings.AUTH_USER_MODEL:
        return True
    for field_ in model._meta.get_fields():
        related = getattr(field_, "related_model", None)
        if isinstance(field_, models.ForeignKey | models.OneToOneField) and related is not None:
            if related._meta.label == settings.AUTH_USER_MODEL:
                return True
        if isinstance(field_, EncryptedMixin):
            return True
    return False


def our_apps():
    from django.apps import apps

    return [
        config
        for config in apps.get_app_configs()
        if config.path.startswith(str(settings.BASE_DIR)) and "site-packages" not in config.path
    ]


def models_without_retention() -> list[str]:
    covered = covered_models()
    return sorted(
        model._meta.label
        for config in our_apps()
        for model in config.get_models()
        if holds_personal_data(model) and model._meta.label not in covered
    )


def summary_providers() -> list[SummaryProvider]:
    return [contract.summary for contract in contracts() if contract.summary is not None]


def export_sections() -> dict[str, ExportSection]:
    return {contract.app: contract.export for contract in contracts() if contract.export is not None}


def erasure_steps() -> list[ErasureStep]:
    return [contract.erasure for contract in contracts() if contract.erasure is not None]


@checks.register(checks.Tags.compatibility)
def check_every_personal_model_has_a_retention_rule(app_configs, **kwargs):
    errors = [
        checks.Error(f"{label} holds personal data and no retention rule covers it", id="privacy.E002")
        for label in models_without_retention()
    ]
    errors += [
        checks.Error(f"retention rule {name!r} is not a privacy.contract.RetentionRule", id="privacy.E003")
        for name, rule in retention_rules().items()
        if not isinstance(rule, RetentionRule)
    ]
    return errors


@checks.register(checks.Tags.compatibility)
def check_every_purpose_has_a_cascade(app_configs, **kwargs):
    return [
        checks.Error(f"consent purpose {purpose!r} has no withdrawal cascade registered", id="privacy.E001")
        for purpose in missing_purposes()
    ]
