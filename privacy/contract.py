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

from django.core import checks

from privacy.models import ConsentEvent, Purpose

# fn(now, *, dry_run=False) -> number of rows destroyed (or, in a dry run, that would be)
RetentionRule = Callable[..., int]
# fn(user) -> [{"data", "purpose", "legal_basis", "recipients"}]
SummaryProvider = Callable[[object], list[dict]]
# fn(user) -> {section name: JSON-able data}; part of the data-subject access export
ExportSection = Callable[[object], dict]
# fn(user, context) -> anything: what no consent cascade covers when an account is erased
ErasureStep = Callable[[object, object], object]


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


def summary_providers() -> list[SummaryProvider]:
    return [contract.summary for contract in contracts() if contract.summary is not None]


def export_sections() -> dict[str, ExportSection]:
    return {contract.app: contract.export for contract in contracts() if contract.export is not None}


def erasure_steps() -> list[ErasureStep]:
    return [contract.erasure for contract in contracts() if contract.erasure is not None]


@checks.register(checks.Tags.compatibility)
def check_every_purpose_has_a_cascade(app_configs, **kwargs):
    return [
        checks.Error(f"consent purpose {purpose!r} has no withdrawal cascade registered", id="privacy.E001")
        for purpose in missing_purposes()
    ]
