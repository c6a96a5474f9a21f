from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from notifications.privacy_hooks import CONTRACT
        from privacy.contract import register

        register(CONTRACT)
