from privacy import cascades
from privacy.models import ConsentEvent, Purpose


def review_publication_withdrawn(grant: ConsentEvent) -> dict:
    """Reviews are not stored yet (the reviews issue is open), so there is nothing to delete."""
    return {"reviews_deleted": 0}


def register_cascades() -> None:
    cascades.register(Purpose.REVIEW_PUBLICATION, on_withdraw=review_publication_withdrawn)
