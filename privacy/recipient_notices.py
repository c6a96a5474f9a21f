"""Recipient notices (KVKK Art. 11(1)(f)): after a correction or an erasure, every doctor and clinic
that received the person's data is told, so they can correct or erase their own copy.

Who received what comes from the apps' privacy contracts (`Contract.recipients`). Privacy imports
no domain app: it sends `recipient_notice_due` once per recipient user and the notifications app
writes the message (notifications/recipient_notices.py). Each notice is logged with the request as
an audit entry `recipient_notified` (the request id, the event, the recipient's kind; no data).
"""

from django.dispatch import Signal

from accounts.models import User
from privacy.context import SYSTEM, ActContext
from privacy.contract import recipients_providers
from privacy.services import audit_record

RECTIFICATION = "rectification"
ERASURE = "erasure"

# Sent with recipient (User), event (RECTIFICATION or ERASURE), event_key (str) and patient_name
# (str, for e-mails only); a receiver returns the number of messages it queued.
recipient_notice_due = Signal()


def full_name(user: User) -> str:
    return " ".join(part for part in (user.first_name, user.last_name) if part)


def data_recipients(subject: User) -> list[tuple[User, list[str]]]:
    """Each user who received the subject's data, once, with the kinds they received it as
    ("doctor", "clinic"), in the order the contracts list them."""
    found: dict = {}
    for provider in recipients_providers():
        for recipient in provider(subject):
            for user in recipient["users"]:
                if user.pk == subject.pk or not user.is_active:
                    continue
                user_kinds = found.setdefault(user.pk, (user, []))[1]
                if recipient["kind"] not in user_kinds:
                    user_kinds.append(recipient["kind"])
    return list(found.values())


def recipient_notices_send(
    *,
    subject: User,
    event: str,
    recipients: list[tuple[User, list[str]]],
    patient_name: str,
    request_id: str | None = None,
    actor: User | None = None,
    context: ActContext = SYSTEM,
) -> int:
    """Tell each recipient (inside the caller's transaction) and log one audit entry per notice.
    Returns the number of recipients told."""
    event_key = f"recipient_notice:{event}:{request_id or subject.pk}"
    for user, kinds in recipients:
        responses = recipient_notice_due.send(
            sender=recipient_notices_send,
            recipient=user,
            event=event,
            event_key=event_key,
            patient_name=patient_name,
        )
        audit_record(
            actor=actor,
            action="recipient_notified",
            patient=subject,
            metadata={
                "request": request_id,
                "event": event,
                "recipient": str(user.pk),
                "as": kinds,
                "messages": sum(int(result or 0) for _receiver, result in responses),
            },
            context=context,
        )
    return len(recipients)
