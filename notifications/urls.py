from django.urls import path

from notifications import apis, device_apis

urlpatterns = [
    path(
        "me/notification-preferences/",
        apis.NotificationPreferencesApi.as_view(),
        name="notification-preferences",
    ),
    path("me/devices/", device_apis.DeviceListApi.as_view(), name="me-devices"),
    path("me/devices/<uuid:device_id>/", device_apis.DeviceDetailApi.as_view(), name="me-device"),
    path("notifications/", apis.NotificationListApi.as_view(), name="notification-list"),
    path(
        "notifications/twilio/status/",
        apis.TwilioStatusCallbackApi.as_view(),
        name="notification-twilio-status",
    ),
]
