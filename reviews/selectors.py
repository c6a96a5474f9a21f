"""Scoped reads of reviews: what the public, the patient and the reviewed doctor may see."""

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Doctor, User
from reviews.models import Review


def review_public_list(*, doctor: Doctor | None = None) -> QuerySet[Review]:
    """Published, not hidden reviews (of one doctor if given), with what the list shows joined in."""
    reviews = Review.objects.filter(is_published=True, is_hidden=False).select_related("patient", "reply")
    if doctor is not None:
        reviews = reviews.filter(doctor=doctor)
    return reviews


def review_list_for_doctor(*, viewer: User) -> QuerySet[Review]:
    """The reviews the public sees of the viewing doctor (those they may answer), newest first."""
    if not (viewer.is_authenticated and viewer.is_doctor):
        return Review.objects.none()
    return review_public_list().filter(doctor__user=viewer).order_by("-created_at", "id")


def review_list_for_patient(*, patient: User) -> QuerySet[Review]:
    """The patient's own reviews, private and hidden ones included."""
    return Review.objects.filter(patient=patient).select_related("patient", "reply", "doctor__user")


def review_moderation_queue() -> QuerySet[Review]:
    """Every review with its open and total report counts, reported ones first (for the admin)."""
    return Review.objects.select_related("doctor__user", "patient").annotate(
        open_reports=Count("reports", filter=Q(reports__resolved_at__isnull=True)),
        total_reports=Count("reports"),
    )


def review_privacy_summary(user: User) -> list[dict]:
    """The reviews part of the privacy summary (registered with privacy.subject_rights)."""
    counts = Review.objects.filter(patient=user).aggregate(
        published=Count("id", filter=Q(is_published=True)), private=Count("id", filter=Q(is_published=False))
    )
    if not counts["published"] and not counts["private"]:
        return []
    processing = []
    if counts["published"]:
        processing.append(
            {
                "data": _("Your published reviews (%(n)d): rating, comment, initials") % {"n": counts["published"]},
                "purpose": _("Showing verified reviews of doctors"),
                "legal_basis": _("KVKK Art. 5/1: explicit consent (review_publication)"),
                "recipients": [_("The public"), _("The reviewed doctor")],
            }
        )
    if counts["private"]:
        processing.append(
            {
                "data": _("Your private reviews (%(n)d): rating, comment") % {"n": counts["private"]},
                "purpose": _("Keeping the reviews you chose not to publish, for you only"),
                "legal_basis": _("KVKK Art. 5/2(c): necessary for the service you asked for"),
                "recipients": [],
            }
        )
    return processing
