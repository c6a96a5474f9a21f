"""The notifications app's privacy contract (see privacy.contract)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medplatform.date_fields import clinic_time
from notifications.consent import marketing_withdrawn
from notifications.models import Channel, Device, Kind, Notification, NotificationPreference, Status
from notifications.processors import email_processor, twilio_processor
from notifications.retention import expired_notifications
from privacy.contract import Contract, PurposeRules, RetentionAction, RetentionRule
from privacy.models import ConsentEvent, Purpose

RETENTION = {
    "notifications.final_outbox_rows": RetentionRule(
        kind=gettext_lazy("Messages sent to you: kind, channel, delivery status and times (no message text is kept)"),
        models=("notifications.Notification",),
        from_event=gettext_lazy("the creation of the message"),
        action=RetentionAction.DESTROY,
        period_setting="NOTIFICATION_RETENTION_DAYS",
        run=expired_notifications,
    ),
    "notifications.preferences": RetentionRule(
        kind=gettext_lazy("Your notification settings"),
        models=("notifications.NotificationPreference",),
        from_event=gettext_lazy("the erasure of the account"),
        action=RetentionAction.DESTROY,
        period_text=gettext_lazy("while you have an account"),
        run=None,
    ),
    "notifications.push_devices": RetentionRule(
        kind=gettext_lazy("Your devices for push notifications (the push service's address for each)"),
        models=("notifications.Device",),
        from_event=gettext_lazy("the removal of the device, by you or when the push service reports it gone"),
        action=RetentionAction.DESTROY,
        period_text=gettext_lazy("while the device is registered"),
        run=None,
    ),
}


def notifications_erase(user, context) -> int:
    """Account erasure: the notification settings and the push devices go with the account."""
    deleted, _per_model = NotificationPreference.objects.filter(user=user).delete()
    devices, _per_model = Device.objects.filter(user=user).delete()
    return deleted + devices


def marketing_rows_held(grant: ConsentEvent) -> int:
    """Marketing messages still waiting to go out: none once the consent is withdrawn."""
    return Notification.objects.filter(
        recipient=grant.subject, kind=Kind.MARKETING, status__in=[Status.PENDING, Status.SENDING]
    ).count()


def notifications_summary(user) -> list[dict]:
    """The messages we sent and the processors that carried them, with their country and the
    legal basis of a transfer abroad (no message content is kept)."""
    channels = set(Notification.objects.filter(recipient=user).values_list("channel", flat=True).distinct())
    if not channels:
        return []
    processors = []
    if channels & {Channel.SMS, Channel.WHATSAPP}:
        processors.append(twilio_processor())
    if Channel.EMAIL in channels:
        processors.append(email_processor())
    return [
        {
            "data": _("Messages to you (%(n)d): kind, channel, status and times; your phone number and e-mail address")
            % {"n": Notification.objects.filter(recipient=user).count()},
            "purpose": _("Telling you about your appointments"),
            "legal_basis": _("KVKK Art. 5/2(c): necessary for the performance of a contract"),
            "recipients": [
                _("%(name)s (%(country)s)") % {"name": p["name"], "country": p["country"]} for p in processors
            ],
            "processors": processors,
        }
    ]


def notifications_export(user) -> dict:
    preference = NotificationPreference.objects.filter(user=user).first()
    messages = Notification.objects.filter(recipient=user).order_by("created_at", "id")
    return {
        "notification_preferences": (
            {"sms": preference.sms, "whatsapp": preference.whatsapp, "email": preference.email, "push": preference.push}
            if preference is not None
            else None
        ),
        "push_devices": [
            {"id": str(device.id), "platform": device.platform, "token": device.token}
            for device in Device.objects.filter(user=user).order_by("created_at", "id")
        ],
        "notifications": [
            {
                "id": str(message.id),
                "kind": message.kind,
                "channel": message.channel,
                "status": message.status,
                "appointment": str(message.appointment_id) if message.appointment_id else None,
                "created_at": clinic_time(message.created_at),
                "sent_at": clinic_time(message.sent_at) if message.sent_at else None,
                "delivered_at": clinic_time(message.delivered_at) if message.delivered_at else None,
            }
            for message in messages
        ],
    }


CONTRACT = Contract(
    app="notifications",
    purposes={
        Purpose.MARKETING_MESSAGES: PurposeRules(on_withdraw=marketing_withdrawn, held_rows=marketing_rows_held),
    },
    retention=RETENTION,
    summary=notifications_summary,
    export=notifications_export,
    erasure=notifications_erase,
)
