"""The outbox and a person's channel switches are shown in the admin, never edited there."""

import pytest

from notifications.models import Kind, Notification, NotificationPreference
from notifications.services import notification_enqueue, preferences_update
from tests.notifications.conftest import booking_context

pytestmark = pytest.mark.django_db


def test_the_admin_does_not_switch_a_persons_channels(superuser_client, patient_ayse):
    preferences_update(user=patient_ayse, sms=False, whatsapp=False, email=True)
    preference = NotificationPreference.objects.get(user=patient_ayse)
    url = f"/admin/notifications/notificationpreference/{preference.pk}/"

    view = superuser_client.get(f"{url}change/")
    change = superuser_client.post(f"{url}change/", {"user": patient_ayse.pk, "sms": "on", "whatsapp": "on"})
    delete = superuser_client.post(f"{url}delete/", {"post": "yes"})

    preference.refresh_from_db()
    assert view.status_code == 200
    assert [change.status_code, delete.status_code] == [403, 403]
    assert (preference.sms, preference.whatsapp, preference.email) == (False, False, True)


def test_the_admin_does_not_delete_a_notification(superuser_client, patient_ayse):
    (notification, *_) = notification_enqueue(
        recipient=patient_ayse, kind=Kind.APPOINTMENT_BOOKED, event_key="b", context=booking_context()
    )

    delete = superuser_client.post(f"/admin/notifications/notification/{notification.pk}/delete/", {"post": "yes"})

    assert delete.status_code == 403
    assert Notification.objects.filter(pk=notification.pk).exists()
