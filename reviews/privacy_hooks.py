"""The reviews app's privacy contract (see privacy.contract)."""

from django.utils.translation import gettext_lazy as _

from medplatform.date_fields import clinic_time
from privacy.contract import Contract, PurposeRules, RetentionAction, RetentionRule
from privacy.models import ConsentEvent, Purpose
from reviews.consent import review_publication_withdrawn
from reviews.models import Review
from reviews.retention import expired_reviews
from reviews.selectors import review_privacy_summary
from reviews.services import reviews_erase


def published_reviews_held(grant: ConsentEvent) -> int:
    return Review.objects.filter(patient=grant.subject, is_published=True).count()


def reviews_export(user) -> dict:
    reviews = Review.objects.filter(patient=user).select_related("doctor__user", "reply").order_by("created_at", "id")
    return {
        "reviews": [
            {
                "id": str(review.id),
                "appointment": str(review.appointment_id),
                "doctor": str(review.doctor_id),
                "doctor_name": review.doctor.name,
                "rating": review.rating,
                "comment": review.comment,
                "display": review.display,
                "is_published": review.is_published,
                "is_hidden": review.is_hidden,
                "reply": review.reply.text if hasattr(review, "reply") else None,
                "created_at": clinic_time(review.created_at),
            }
            for review in reviews
        ]
    }


CONTRACT = Contract(
    app="reviews",
    purposes={
        Purpose.REVIEW_PUBLICATION: PurposeRules(
            on_withdraw=review_publication_withdrawn, held_rows=published_reviews_held
        ),
    },
    retention={
        "reviews.reviews": RetentionRule(
            kind=_("Reviews you wrote, their replies, reports and moderation history"),
            models=("reviews.Review", "reviews.ReviewReport", "reviews.ReviewModeration"),
            from_event=_("the writing of the review (earlier if you withdraw its consent)"),
            action=RetentionAction.DESTROY,
            period_setting="REVIEW_RETENTION_DAYS",
            run=expired_reviews,
        )
    },
    summary=review_privacy_summary,
    export=reviews_export,
    erasure=lambda user, context: reviews_erase(patient=user, context=context),
)
