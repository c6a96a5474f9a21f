"""Who may do what with a review. Services call these; selectors scope lists the same way."""

from accounts.models import User
from reviews.models import Review


def can_reply_to_review(user: User, review: Review) -> bool:
    """Only the reviewed doctor, and only on a review the public can see."""
    return bool(
        user.is_authenticated
        and user.is_doctor
        and review.is_published
        and not review.is_hidden
        and review.doctor.user_id == user.pk
    )


def can_report_review(user: User, review: Review) -> bool:
    """Any signed-in user, on a review the public can see."""
    return bool(user.is_authenticated and review.is_published and not review.is_hidden)
