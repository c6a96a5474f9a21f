from privacy.models import ConsentEvent
from reviews.services import reviews_delete_for_patient


def review_publication_withdrawn(grant: ConsentEvent) -> dict:
    """Unpublish and delete every review of the patient, and take them out of the ratings, inside
    the withdrawal's transaction."""
    return {"reviews_deleted": reviews_delete_for_patient(patient=grant.subject)}
