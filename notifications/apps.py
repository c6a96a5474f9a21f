from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from notifications.privacy_hooks import CONTRACT
        from notifications.recipient_notices import recipient_notice_enqueue
        from privacy.contract import register
        from privacy.recipient_notices import recipient_notice_due

        register(CONTRACT)
        recipient_notice_due.connect(recipient_notice_enqueue, dispatch_uid="notifications.recipient_notice")
