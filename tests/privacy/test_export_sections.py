"""The JSON access export is assembled from every app's privacy contract, and no app that holds
personal data may be missing from it."""

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django_cryptography.fields import EncryptedMixin

from notifications.models import Kind
from notifications.services import notification_enqueue
from privacy.contract import export_sections
from privacy.subject_rights import privacy_request_create
from reviews.models import Review
from tests.appointments.conftest import at, book, grant_booking_consent, working_day
from tests.health_profiles.scenario import add_entry, grant_storage, share_with
from tests.notifications.conftest import booking_context
from tests.reviews.factories import past_appointment

EXPORT = "/api/v1/health-profile/export/"


def holds_personal_data(model) -> bool:
    """The user model, a model pointing at a user, or one with an encrypted column."""
    if model._meta.label == settings.AUTH_USER_MODEL:
        return True
    for field in model._meta.get_fields():
        if isinstance(field, models.ForeignKey | models.OneToOneField) and field.related_model is not None:
            if field.related_model._meta.label == settings.AUTH_USER_MODEL:
                return True
        if isinstance(field, EncryptedMixin):
            return True
    return False


def our_apps():
    return [
        config
        for config in apps.get_app_configs()
        if config.path.startswith(str(settings.BASE_DIR)) and "site-packages" not in config.path
    ]


def test_every_app_of_ours_that_holds_personal_data_has_an_export_section():
    holding = {config.label for config in our_apps() if any(holds_personal_data(m) for m in config.get_models())}

    assert holding >= {"accounts", "appointments", "health_profiles", "privacy", "reviews", "notifications"}
    assert holding - set(export_sections()) == set()


@pytest.mark.django_db
def test_the_json_export_holds_the_appointment_review_request_notification_and_share(
    as_user, patient_ayse, doctor_x, clinic_x
):
    # given a patient with something in every part of the platform
    from appointments.demo import create_demo_schedule

    create_demo_schedule(doctor_x, clinic_x)
    grant_booking_consent(patient_ayse)
    appointment = book(patient_ayse, doctor_x, at(working_day(), 11), visit_reason="Kontrol-QQV")
    visit = past_appointment(patient=patient_ayse, doctor=doctor_x)
    review = Review.objects.create(appointment=visit, patient=patient_ayse, doctor=doctor_x, rating=4, comment="iyi")
    request = privacy_request_create(subject=patient_ayse, type="access", details="Her şey")
    with transaction.atomic():
        [*_notifications] = notification_enqueue(
            recipient=patient_ayse, kind=Kind.APPOINTMENT_BOOKED, event_key="export:1", context=booking_context()
        )
    grant_storage(patient_ayse)
    entry = add_entry(patient_ayse, "allergy")
    share = share_with(patient_ayse, doctor_x, categories=["allergy"])

    # when
    body = as_user(patient_ayse).get(EXPORT, {"format": "json"}).json()

    # then
    assert body["patient"]["id"] == str(patient_ayse.id)
    exported = {row["id"]: row for row in body["appointments"]}
    assert exported[str(appointment.id)]["visit_reason"] == "Kontrol-QQV"
    assert exported[str(appointment.id)]["start"].endswith("+03:00")  # the clinic's time, as the API shows it
    assert [row["id"] for row in body["reviews"]] == [str(review.id)]
    assert [row["id"] for row in body["privacy_requests"]] == [str(request.id)]
    assert {row["id"] for row in body["notifications"]} >= {str(n.id) for n in _notifications} != set()
    assert [row["consent"] for row in body["shares"]] == [str(share.id)]
    assert body["health_profile"]["allergies"][0]["id"] == str(entry.id)
    assert {row["purpose"] for row in body["consents"]} >= {"appointment_health_data", "health_profile_share"}
    assert body["access_log"]
