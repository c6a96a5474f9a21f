"""Delivery channels. Each one sends a rendered message and reports the outcome in the terms the
dispatcher acts on: accepted (with the provider's id), a transient error (retry with backoff;
`ambiguous` when the message may have gone out anyway) or a permanent error (never retried).
Error codes are numbers or short names, never bodies or addresses."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Outgoing:
    notification_id: str
    kind: str
    address: str
    subject: str
    body: str
    created_at: object  # aware datetime: lower bound for a look-up by recipient and date


@dataclass(frozen=True)
class Accepted:
    provider_sid: str | None
    # Our status name for what the provider reports: sent, delivered, undelivered or failed.
    status: str = "sent"


class SendError(Exception):
    def __init__(self, code: str):
        self.code = code[:40]
        super().__init__(self.code)


class TransientSendError(SendError):
    def __init__(self, code: str, *, ambiguous: bool = False):
        super().__init__(code)
        self.ambiguous = ambiguous


class PermanentSendError(SendError):
    pass


def channel_for(name: str):
    """The sender object for a channel name (imported lazily: the Twilio SDK is heavy)."""
    if name in ("sms", "whatsapp"):
        from notifications.channels.twilio_channel import TwilioChannel

        return TwilioChannel(whatsapp=name == "whatsapp")
    if name == "push":
        from notifications.channels.push_channel import PushChannel

        return PushChannel()
    if name == "email":
        from notifications.channels.email_channel import EmailChannel

        return EmailChannel()
    from notifications.channels.console_channel import ConsoleChannel

    return ConsoleChannel()
