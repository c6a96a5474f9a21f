"""What each consent purpose does on grant and on withdrawal, registered by the app that owns
the data (privacy imports no domain app). `consent_withdraw` runs the withdrawal cascade inside
its own transaction; start-up fails if a purpose has none registered."""

from collections.abc import Callable
from dataclasses import dataclass

from django.core import checks

from privacy.models import ConsentEvent, Purpose


@dataclass(frozen=True)
class Cascade:
    on_withdraw: Callable[[ConsentEvent], dict]
    on_grant: Callable[[ConsentEvent], None] | None = None


_registry: dict[str, Cascade] = {}


def register(purpose: str, *, on_withdraw: Callable[[ConsentEvent], dict], on_grant=None) -> None:
    """Called from an app's ready(). on_withdraw returns counts for the audit entry (no data)."""
    _registry[purpose] = Cascade(on_withdraw=on_withdraw, on_grant=on_grant)


def cascade_for(purpose: str) -> Cascade:
    try:
        return _registry[purpose]
    except KeyError:
        raise RuntimeError(f"no withdrawal cascade registered for consent purpose {purpose!r}") from None


def missing_purposes() -> list[str]:
    return [purpose for purpose in Purpose.values if purpose not in _registry]


@checks.register(checks.Tags.compatibility)
def check_every_purpose_has_a_cascade(app_configs, **kwargs):
    return [
        checks.Error(f"consent purpose {purpose!r} has no withdrawal cascade registered", id="privacy.E001")
        for purpose in missing_purposes()
    ]
