"""Retention of reviews: a review (with its reply, reports and moderation history) is deleted
REVIEW_RETENTION_DAYS after it was written, and taken out of the doctor's rating in the same
transaction. A review about a visit that old says little about the doctor today, and the patient
may withdraw it at any time before (review_publication)."""

from datetime import timedelta

from django.conf import settings

from reviews.models import Review
from reviews.services import _rating_change


def expired_reviews(now, *, dry_run: bool = False) -> int:
    expired = Review.objects.filter(created_at__lt=now - timedelta(days=settings.REVIEW_RETENTION_DAYS))
    if dry_run:
        return expired.count()
    rows = list(expired.select_for_update().values_list("id", "doctor_id", "rating", "is_published", "is_hidden"))
    if not rows:
        return 0
    counted = [(doctor_id, rating) for _id, doctor_id, rating, published, hidden in rows if published and not hidden]
    Review.objects.filter(pk__in=[row[0] for row in rows]).delete()
    _rating_change(doctor_ids_and_ratings=counted, sign=-1)
    return len(rows)
