"""Writes on reviews. Each function owns its transaction and keeps the doctor's rating columns
(Doctor.rating_sum / rating_count) in step with atomic F() updates inside that transaction.

Why this stays exact under concurrency: a new review adds itself once (the one-per-appointment
constraint refuses a second insert); every other change first locks the review rows it touches
(`select_for_update`) and re-reads their state, so a review is added to or taken from the
aggregate only on a real transition (published+visible <-> not), and the doctor row is updated
with `rating_sum = rating_sum ± r` rather than a value computed in Python.
"""

from collections import defaultdict
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Doctor, User
from appointments import cache_versions
from appointments.models import Appointment
from medplatform.errors import ApplicationError, NotFound, ValidationFailed
from privacy.context import SYSTEM, ActContext
from privacy.guard import consent_hold
from privacy.models import Purpose
from privacy.services import audit_record
from reviews.models import Display, Review, ReviewModeration, ReviewReply, ReviewReport
from reviews.permissions import can_reply_to_review, can_report_review

REVIEW_WINDOW = timedelta(days=30)


class ReviewNotAllowed(ApplicationError):
    code = "review_not_allowed"
    status_code = 409
    default_detail = _("This appointment cannot be reviewed (not completed, already reviewed, or too late).")


def _rating_change(*, doctor_ids_and_ratings: list[tuple], sign: int) -> None:
    """Add (sign=1) or take away (sign=-1) ratings from their doctors, in doctor id order."""
    totals: dict = defaultdict(lambda: [0, 0])
    for doctor_id, rating in doctor_ids_and_ratings:
        totals[doctor_id][0] += rating
        totals[doctor_id][1] += 1
    # A fixed lock order keeps two multi-doctor changes from deadlocking each other.
    for doctor_id in sorted(totals, key=str):
        rating_sum, rating_count = totals[doctor_id]
        Doctor.objects.filter(pk=doctor_id).update(
            rating_sum=F("rating_sum") + sign * rating_sum,
            rating_count=F("rating_count") + sign * rating_count,
        )
    # An update() sends no signal: doctor search shows and sorts on the rating.
    cache_versions.bump_search()


def review_create(
    *,
    patient: User,
    appointment_id,
    rating: int,
    comment: str = "",
    display: str = Display.INITIALS,
    publish: bool = False,
) -> Review:
    """The patient reviews one of their completed appointments, once, within 30 days of it."""
    appointment = Appointment.objects.filter(pk=appointment_id, patient=patient).first()
    if appointment is None:
        raise NotFound()
    if appointment.status != Appointment.Status.COMPLETED:
        raise ReviewNotAllowed()
    if timezone.now() > appointment.end + REVIEW_WINDOW:
        raise ReviewNotAllowed()
    if Review.objects.filter(appointment=appointment).exists():
        raise ReviewNotAllowed()
    with transaction.atomic():
        if publish:
            consent_hold(subject=patient, purpose=Purpose.REVIEW_PUBLICATION)
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    appointment=appointment,
                    patient=patient,
                    doctor_id=appointment.doctor_id,
                    rating=rating,
                    comment=comment,
                    display=display,
                    is_published=publish,
                )
        except IntegrityError as exc:  # a concurrent review of the same appointment won
            raise ReviewNotAllowed() from exc
        if review.counts_in_rating:
            _rating_change(doctor_ids_and_ratings=[(review.doctor_id, review.rating)], sign=1)
    return review


def review_reply(*, doctor_user: User, review_id, text: str) -> ReviewReply:
    """The reviewed doctor answers a public review, once."""
    review = Review.objects.select_related("doctor").filter(pk=review_id).first()
    if review is None or not can_reply_to_review(doctor_user, review):
        raise NotFound()
    if ReviewReply.objects.filter(review=review).exists():
        raise ReviewNotAllowed()
    try:
        with transaction.atomic():
            return ReviewReply.objects.create(review=review, doctor_id=review.doctor_id, text=text)
    except IntegrityError as exc:  # a concurrent reply won
        raise ReviewNotAllowed() from exc


def review_report(*, reporter: User, review_id, reason: str = "") -> ReviewReport:
    """Flag a public review for moderation; reporting the same review again changes nothing."""
    review = Review.objects.filter(pk=review_id).first()
    if review is None or not can_report_review(reporter, review):
        raise NotFound()
    try:
        with transaction.atomic():
            report, _created = ReviewReport.objects.get_or_create(
                review=review, reporter=reporter, defaults={"reason": reason}
            )
    except IntegrityError:  # a concurrent identical report
        report = ReviewReport.objects.get(review=review, reporter=reporter)
    return report


def _moderate(*, review_id, moderator: User, reason: str, hide: bool) -> Review:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("Give the reason for this decision.")]})
    with transaction.atomic():
        review = Review.objects.select_for_update().filter(pk=review_id).first()
        if review is None:
            raise NotFound()
        if review.is_hidden != hide:
            counted_before = review.counts_in_rating
            review.is_hidden = hide
            review.save(update_fields=["is_hidden", "updated_at"])
            if counted_before != review.counts_in_rating:
                _rating_change(doctor_ids_and_ratings=[(review.doctor_id, review.rating)], sign=-1 if hide else 1)
        ReviewModeration.objects.create(
            review=review,
            action=ReviewModeration.Action.HIDE if hide else ReviewModeration.Action.RESTORE,
            reason=reason,
            moderator=moderator,
        )
        ReviewReport.objects.filter(review=review, resolved_at__isnull=True).update(resolved_at=timezone.now())
    return review


def review_hide(*, review_id, moderator: User, reason: str) -> Review:
    """Moderation: take a review out of public view and out of the rating, with a reason."""
    return _moderate(review_id=review_id, moderator=moderator, reason=reason, hide=True)


def review_restore(*, review_id, moderator: User, reason: str) -> Review:
    """Moderation: undo a hide, with a reason."""
    return _moderate(review_id=review_id, moderator=moderator, reason=reason, hide=False)


def reviews_delete_for_patient(*, patient: User) -> int:
    """Delete every review the patient wrote (published or private), taking the counted ones out
    of their doctors' ratings in the same transaction; returns how many went.

    The review_publication withdrawal cascade calls this (its counts go into the withdrawal's
    audit entry); account erasure calls `reviews_erase`."""
    with transaction.atomic():
        rows = list(
            Review.objects.select_for_update()
            .filter(patient=patient)
            .values_list("id", "doctor_id", "rating", "is_published", "is_hidden")
        )
        if not rows:
            return 0
        counted = [
            (doctor_id, rating) for _id, doctor_id, rating, published, hidden in rows if published and not hidden
        ]
        Review.objects.filter(pk__in=[row[0] for row in rows]).delete()
        _rating_change(doctor_ids_and_ratings=counted, sign=-1)
    return len(rows)


def reviews_erase(*, patient: User, context: ActContext = SYSTEM) -> int:
    """Account erasure: delete all the patient's reviews, private ones included, and audit the count."""
    with transaction.atomic():
        deleted = reviews_delete_for_patient(patient=patient)
        audit_record(
            actor=patient,
            action="reviews_erased",
            patient=patient,
            metadata={"reviews_deleted": deleted},
            context=context,
        )
    return deleted
