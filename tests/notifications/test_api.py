"""Preferences and the in-app list: own data only, fixed query counts."""

import pytest
from django.db import transaction

from notifications.models import Kind, Notification
from notifications.services import notification_enqueue
from privacy.services import consent_withdraw
from tests.bearer import seeded_user_query
from tests.notifications.conftest import booking_context, grant_marketing

pytestmark = pytest.mark.django_db

PREFS = "/api/v1/me/notification-preferences/"
LIST = "/api/v1/notifications/"


def test_preferences_start_with_sms_and_email_on(as_user, patient_ayse):
    response = as_user(patient_ayse).get(PREFS)

    assert response.status_code == 200
    assert response.json() == {"sms": True, "whatsapp": False, "email": True, "push": False, "marketing": False}


def test_preferences_need_a_login(api):
    assert api.get(PREFS).status_code == 401
    assert api.patch(PREFS, {"sms": False}).status_code == 401


def test_a_user_switches_channels_and_only_their_own(as_user, patient_ayse, patient_mehmet):
    response = as_user(patient_ayse).patch(PREFS, {"sms": False, "whatsapp": True}, format="json")

    assert response.status_code == 200
    assert response.json() == {"sms": False, "whatsapp": True, "email": True, "push": False, "marketing": False}
    assert as_user(patient_mehmet).get(PREFS).json()["sms"] is True


def test_marketing_is_read_only_and_follows_the_consent(as_user, patient_ayse):
    client = as_user(patient_ayse)

    refused = client.patch(PREFS, {"marketing": True}, format="json")
    assert refused.status_code == 400 and set(refused.json()["fields"]) == {"marketing"}
    assert client.get(PREFS).json()["marketing"] is False
    grant = grant_marketing(patient_ayse)
    assert client.get(PREFS).json()["marketing"] is True
    consent_withdraw(subject=patient_ayse, grant_id=grant.id)
    assert client.get(PREFS).json()["marketing"] is False


def test_a_bad_preference_value_is_a_validation_error(as_user, patient_ayse):
    response = as_user(patient_ayse).patch(PREFS, {"sms": "maybe"}, format="json")

    assert response.status_code == 400 and response.json()["code"] == "validation_error"


def _enqueue_many(user, count):
    for number in range(count):
        with transaction.atomic():
            notification_enqueue(
                recipient=user, kind=Kind.APPOINTMENT_BOOKED, event_key=f"booked:{number}", context=booking_context()
            )


def test_the_list_shows_my_messages_and_not_others(as_user, patient_ayse, patient_mehmet):
    _enqueue_many(patient_ayse, 2)
    _enqueue_many(patient_mehmet, 1)

    body = as_user(patient_ayse).get(LIST).json()

    assert body["count"] == 4
    mine = {str(pk) for pk in Notification.objects.filter(recipient=patient_ayse).values_list("id", flat=True)}
    assert {item["id"] for item in body["results"]} == mine
    assert set(body["results"][0]) == {"id", "kind", "channel", "status", "created_at"}
    assert as_user(patient_mehmet).get(LIST).json()["count"] == 2


def test_the_list_needs_a_login(api):
    assert api.get(LIST).status_code == 401


def test_the_list_costs_the_same_queries_for_one_or_many_rows(
    as_user, patient_ayse, django_assert_num_queries, settings
):
    settings.NOTIFICATIONS_MAX_PER_USER_PER_DAY = 100
    client = as_user(patient_ayse)
    _enqueue_many(patient_ayse, 1)
    # 1 the user (JWT authentication), 1 count, 1 page of rows
    with django_assert_num_queries(3):
        assert client.get(LIST).status_code == 200
    _enqueue_many(patient_ayse, 20)
    # the same, but the user on the services run: from its state in Redis (seeded_user_query)
    with django_assert_num_queries(2 + seeded_user_query()):
        assert len(client.get(LIST).json()["results"]) == 20
