"""The doctor's rating columns against a fresh aggregate after many writers at once.

Real PostgreSQL and real threads, each with its own database connection: the SQLite run
serialises every write, so it would prove nothing here.
"""

import pytest
from django.db.models import Count, Sum

from accounts.models import Doctor
from medplatform.errors import ConsentRequired, NotFound
from privacy.services import consent_is_active, consent_withdraw
from reviews import services
from reviews.models import Review
from tests.concurrency import run_at_once
from tests.factories import ClinicFactory, DoctorFactory, UserFactory
from tests.reviews.factories import grant_review_publication, past_appointment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _fresh_aggregate(doctor: Doctor) -> tuple[int, int]:
    totals = Review.objects.filter(doctor=doctor, is_published=True, is_hidden=False).aggregate(
        rating_sum=Sum("rating"), rating_count=Count("id")
    )
    return totals["rating_sum"] or 0, totals["rating_count"]


def _stored(doctor: Doctor) -> tuple[int, int]:
    doctor.refresh_from_db()
    return doctor.rating_sum, doctor.rating_count


def test_many_patients_reviewing_one_doctor_at_once_keep_the_rating_exact():
    clinic = ClinicFactory()
    doctor = DoctorFactory(clinics=[clinic])
    appointments = []
    for _ in range(20):
        patient = UserFactory()
        grant_review_publication(patient)
        appointments.append(past_appointment(patient=patient, doctor=doctor))

    results = run_at_once(
        [
            lambda a=a, n=n: services.review_create(
                patient=a.patient, appointment_id=a.id, rating=1 + n % 5, publish=True
            )
            for n, a in enumerate(appointments)
        ]
    )

    assert [kind for kind, _ in results] == ["ok"] * 20
    assert _stored(doctor) == _fresh_aggregate(doctor) == (sum(1 + n % 5 for n in range(20)), 20)


def test_reviews_hides_restores_and_withdrawals_at_once_keep_the_rating_exact():
    # given: a doctor with 8 published reviews, 12 patients about to review, a moderator
    clinic = ClinicFactory()
    doctor = DoctorFactory(clinics=[clinic])
    other_doctor = DoctorFactory(clinics=[clinic])
    moderator = UserFactory(role="admin", is_staff=True, is_superuser=True)
    existing = []
    for n in range(8):
        patient = UserFactory()
        grant = grant_review_publication(patient)
        appointment = past_appointment(patient=patient, doctor=doctor)
        review = services.review_create(patient=patient, appointment_id=appointment.id, rating=1 + n % 5, publish=True)
        # each also reviewed another doctor, so a withdrawal touches two doctor rows
        other = past_appointment(patient=patient, doctor=other_doctor)
        services.review_create(patient=patient, appointment_id=other.id, rating=5, publish=True)
        existing.append((patient, grant, review))
    services.review_hide(review_id=existing[7][2].id, moderator=moderator, reason="set-up: hidden before")
    newcomers = []
    for _ in range(12):
        patient = UserFactory()
        grant_review_publication(patient)
        newcomers.append(past_appointment(patient=patient, doctor=doctor))

    def hide(review):
        return lambda: services.review_hide(review_id=review.id, moderator=moderator, reason="concurrent hide")

    def withdraw(patient, grant):
        return lambda: consent_withdraw(subject=patient, grant_id=grant.id)

    def review(appointment, rating=4):
        return lambda: services.review_create(
            patient=appointment.patient, appointment_id=appointment.id, rating=rating, publish=True
        )

    late_patient_appointment = past_appointment(patient=existing[5][0], doctor=doctor)
    tasks = [
        *[review(a, 1 + n % 5) for n, a in enumerate(newcomers)],
        # the same appointment twice: exactly one review may land
        review(newcomers[0], 5),
        # the same review hidden by two moderators at once: taken out of the rating once
        hide(existing[0][2]),
        hide(existing[0][2]),
        hide(existing[1][2]),
        # a hide racing the deletion of the same review by its author's withdrawal
        hide(existing[2][2]),
        withdraw(*existing[2][:2]),
        withdraw(*existing[3][:2]),
        withdraw(*existing[4][:2]),
        # a restore of a hidden review racing its author's withdrawal
        lambda: services.review_restore(review_id=existing[7][2].id, moderator=moderator, reason="concurrent"),
        withdraw(*existing[7][:2]),
        # a new published review racing its author's own withdrawal
        review(late_patient_appointment, 2),
        withdraw(*existing[5][:2]),
    ]

    # when
    results = run_at_once(tasks)

    # then: only the expected refusals, no deadlock or other error
    errors = [value for kind, value in results if kind == "error"]
    assert all(isinstance(error, services.ReviewNotAllowed | NotFound | ConsentRequired) for error in errors), errors
    assert sum(isinstance(error, services.ReviewNotAllowed) for error in errors) == 1
    assert _stored(doctor) == _fresh_aggregate(doctor)
    assert _stored(other_doctor) == _fresh_aggregate(other_doctor)
    # and no published review outlives its author's withdrawal
    for patient, _grant, _review in existing:
        if not consent_is_active(subject=patient, purpose="review_publication"):
            assert not Review.objects.filter(patient=patient).exists()
    assert Review.objects.filter(appointment=newcomers[0]).count() == 1
