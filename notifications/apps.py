from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from notifications.consent import register_cascades

        register_cascades()

        from notifications.retention import register_rules as register_retention_rules

        register_retention_rules()
