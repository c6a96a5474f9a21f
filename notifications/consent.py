from privacy import cascades
from privacy.models import ConsentEvent, Purpose


def marketing_withdrawn(grant: ConsentEvent) -> dict:
    """Nothing is stored for marketing: every marketing send checks the consent when it goes out,
    so the withdrawal itself is what stops further messages."""
    return {}


def register_cascades() -> None:
    cascades.register(Purpose.MARKETING_MESSAGES, on_withdraw=marketing_withdrawn)
