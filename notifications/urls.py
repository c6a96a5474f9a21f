from django.urls import path

from notifications import apis

urlpatterns = [
    path(
        "me/notification-preferences/",
        apis.NotificationPreferencesApi.as_view(),
        name="notification-preferences",
    ),
    path("notifications/", apis.NotificationListApi.as_view(), name="notification-list"),
    path(
        "notifications/twilio/status/",
        apis.TwilioStatusCallbackApi.as_view(),
        name="notification-twilio-status",
    ),
]
