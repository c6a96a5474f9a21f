"""Writes of the notifications app: the outbox, dispatch, provider status, preferences, reminders.

Public API for other apps:

    notification_enqueue(*, recipient, kind, event_key, context, transactional=True, channels=None)
        -> list[Notification]

Call it INSIDE the transaction that records the event. It writes one outbox row per enabled channel
(unique per event, recipient and channel, so a replayed event writes nothing new) and hands the new
rows to Celery after the commit. `context` holds display values only: clinic_name, doctor_name,
start (ISO 8601), timezone, appointment_id (and lead_minutes / campaign_title / verification_id);
anything else is refused, so a visit reason can never reach a message. `channels` names the
channels of a security message (a verification code, a reset link) instead of the preferences.

SMS and WhatsApp go only to a verified phone (a verification code excepted: it is how a phone
gets verified), and each phone number receives at most NOTIFICATIONS_MAX_PER_NUMBER_PER_DAY of
them a day, across every account that names it.

    reminders_create_due(*, now, due: Iterable[ReminderDue]) -> list[Notification]

Creates the reminder rows whose time has come; the selection over appointments lives in
appointments/reminders.py and the beat task `appointments.tasks.send_due_reminders` joins the two.
"""

import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from uuid import UUID

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Func, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from accounts.permissions import guardian_of
from medplatform.encryption import keyed_hash, keyed_hashes
from medplatform.errors import ConsentRequired
from medplatform.prepared_queries import PreparedQuery, PreparedUpdate
from notifications.channels import Accepted, Outgoing, PermanentSendError, TransientSendError, channel_for
from notifications.messages import context_check, language_of, render
from notifications.models import (
    PREFERENCE_CHANNELS,
    PROVIDER_STATUS,
    Channel,
    Kind,
    Notification,
    NotificationPreference,
    Status,
    statuses_below,
)
from notifications.processors import channel_transfer_allowed
from privacy.guard import consent_hold
from privacy.models import Purpose
from privacy.services import consent_is_active

logger = logging.getLogger(__name__)

CAPPED = "capped"
WORKER_LOST = "worker_lost"
DEFAULT_CHANNELS = [Channel.SMS, Channel.EMAIL]
# Kinds sent to the dependant's own new address, not to their guardian: the invitation to take over.
OWN_ADDRESS_KINDS = frozenset({Kind.HANDOVER_INVITATION})
# Channels that send to the recipient's phone (the console stands in for SMS and WhatsApp).
PHONE_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP, Channel.CONSOLE})
PHONE_NOT_VERIFIED = "phone_not_verified"
# In the broker's Redis while a drain is queued or at work (notifications_hand_over).
DRAIN_FLAG = "medplatform:notifications:drain"


def twilio_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)


# ---------------------------------------------------------------------------------------------
# Outbox


def phone_may_receive(recipient: User, kind: str) -> bool:
    """Only a verified phone gets messages; the code that verifies it is the one exception."""
    return bool(recipient.phone) and (recipient.phone_verified or kind == Kind.VERIFICATION_CODE)


def destination_hash(phone) -> str:
    return keyed_hash(str(phone), purpose="notification_destination")


def _channels_for(recipient: User, kind: str, wanted: list[str]) -> list[str]:
    channels: list[str] = []
    for channel in wanted:
        if channel in (Channel.SMS, Channel.WHATSAPP):
            if not phone_may_receive(recipient, kind):
                continue
            if not twilio_configured():
                channel = Channel.CONSOLE  # embedded default: no provider, the log stands in
            elif not channel_transfer_allowed(channel, twilio=True):
                continue  # Twilio is abroad: no configured transfer basis, no message (KVKK Art. 9)
        if channel == Channel.EMAIL and (not recipient.email or not channel_transfer_allowed(channel, twilio=False)):
            continue
        if channel not in channels:
            channels.append(channel)
    return channels


def _count(rows) -> Subquery:
    """`SELECT COUNT(*)` of `rows` as a scalar subquery (no GROUP BY: the count of the whole set)."""
    return Subquery(
        rows.order_by().annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField())).values("n")
    )


def _outbox_state_query(*, recipient_id, event_key, since, appointment_id, **hashes):
    """The query of `_outbox_state`, from its parameters (`hash_0`, `hash_1`, ...: the recipient's
    phone under each configured key, when the phone may receive)."""
    recent = Notification.objects.filter(created_at__gte=since).exclude(last_error=CAPPED)
    counts = {
        "existing": _count(Notification.objects.filter(event_key=event_key, recipient=OuterRef("pk"))),
        "per_user": _count(recent.filter(recipient=OuterRef("pk"))),
    }
    if appointment_id is not None:
        counts["per_appointment"] = _count(recent.filter(appointment_id=appointment_id))
    if hashes:
        counts["per_number"] = _count(recent.filter(destination_hash__in=list(hashes.values())))
    preference = [f"notification_preference__{name}" for name in ("id", *PREFERENCE_CHANNELS)]
    return User.objects.filter(pk=recipient_id).annotate(**counts).values(*preference, *counts)


@cache
def _outbox_state_prepared(*, hashes: int) -> PreparedQuery:
    """`_outbox_state_query` compiled once per connection (medplatform.prepared_queries), per number
    of hashes of the phone (none when the phone may not receive)."""
    hash_kinds = {f"hash_{index}": str for index in range(hashes)}
    kinds = {"recipient_id": UUID, "event_key": str, "since": datetime, "appointment_id": UUID, **hash_kinds}
    return PreparedQuery(User, _outbox_state_query, optional=("appointment_id",), **kinds)


def _outbox_state(*, recipient: User, kind: str, event_key: str, appointment_id: str | None, now: datetime) -> dict:
    """In one query: the recipient's channel preferences, how many rows this event already has,
    and the counts the daily caps compare (per user, per appointment, per phone number)."""
    values = {
        "recipient_id": recipient.pk,
        "event_key": event_key,
        "since": now - timedelta(days=1),
        "appointment_id": None if appointment_id is None else UUID(appointment_id),
    }
    hashes = (
        keyed_hashes(str(recipient.phone), purpose="notification_destination")
        if phone_may_receive(recipient, kind)
        else []
    )
    values.update({f"hash_{index}": value for index, value in enumerate(hashes)})
    prepared = _outbox_state_prepared(hashes=len(hashes))
    # One per recipient of an event (the patient; the doctor too when the patient cancels), never
    # per row of a list.
    return prepared.rows(**values)[0]


def message_recipient(recipient: User, kind: str) -> User:
    """Who is told: a dependant has no contact of their own, so messages about them go to their
    guardian while the guardianship lasts (they carry no health data); the invitation to take
    over goes to the dependant's new address."""
    if kind in OWN_ADDRESS_KINDS:
        return recipient
    return guardian_of(recipient) or recipient


def notification_enqueue(
    *,
    recipient: User,
    kind: str,
    event_key: str,
    context: dict,
    transactional: bool = True,
    channels: list[str] | None = None,
) -> list[Notification]:
    """Write the outbox rows for one event (inside the caller's transaction) and dispatch after commit.

    Two queries in the common case: the state (preferences, caps, rows already written, all in
    one), then one insert of the new rows. No savepoint: an error here ends the caller's
    transaction anyway."""
    if kind not in Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    recipient = message_recipient(recipient, kind)
    context = context_check(context)
    appointment_id = context.get("appointment_id")
    if appointment_id is not None:
        appointment_id = str(UUID(appointment_id))
    now = timezone.now()
    rows: list[Notification] = []
    with transaction.atomic(savepoint=False):
        if kind == Kind.MARKETING or not transactional:
            try:
                consent_hold(subject=recipient, purpose=Purpose.MARKETING_MESSAGES)
            except ConsentRequired:
                return []
        state = _outbox_state(
            recipient=recipient, kind=kind, event_key=event_key, appointment_id=appointment_id, now=now
        )
        if channels is None:
            if state["notification_preference__id"] is None:
                channels = list(DEFAULT_CHANNELS)
            else:
                channels = [c for c in PREFERENCE_CHANNELS if state[f"notification_preference__{c}"]]
        channels = _channels_for(recipient, kind, channels)
        existing = {}
        if state["existing"]:
            existing = {
                n.channel: n
                for n in Notification.objects.filter(event_key=event_key, recipient=recipient, channel__in=channels)
            }
        new_channels = [channel for channel in channels if channel not in existing]
        adding = len(new_channels)
        capped = bool(new_channels) and (
            state["per_user"] + adding > settings.NOTIFICATIONS_MAX_PER_USER_PER_DAY
            or state.get("per_appointment", 0) + adding > settings.NOTIFICATIONS_MAX_PER_APPOINTMENT_PER_DAY
        )
        new_phone_channels = [channel for channel in new_channels if channel in PHONE_CHANNELS]
        number_capped = (
            bool(new_phone_channels)
            and state.get("per_number", 0) + len(new_phone_channels) > settings.NOTIFICATIONS_MAX_PER_NUMBER_PER_DAY
        )
        created = []
        for channel in channels:
            if channel in existing:
                rows.append(existing[channel])
                continue
            to_phone = channel in PHONE_CHANNELS
            row_capped = capped or (number_capped and to_phone)
            notification = Notification(
                event_key=event_key,
                recipient=recipient,
                channel=channel,
                kind=kind,
                context=context,
                appointment_id=appointment_id,
                destination_hash=destination_hash(recipient.phone) if to_phone and recipient.phone else "",
                status=Status.FAILED if row_capped else Status.PENDING,
                last_error=CAPPED if row_capped else "",
                next_attempt_at=now,
            )
            created.append(notification)
            rows.append(notification)
        if created:
            # ignore_conflicts: a concurrent enqueue of the same event may have written a row since
            # the look above; the unique key keeps one. Publishing a row that was not written is
            # harmless: dispatch claims only a pending row, once.
            Notification.objects.bulk_create(created, ignore_conflicts=True)
            pending = [str(notification.id) for notification in created if notification.status == Status.PENDING]
            if pending:
                transaction.on_commit(partial(notifications_hand_over, pending))
        if capped:
            logger.warning("notification cap reached: user=%s kind=%s (rows written as capped)", recipient.pk, kind)
        elif number_capped:
            logger.warning("notification cap per number reached: user=%s kind=%s", recipient.pk, kind)
    return rows


def notifications_hand_over(notification_ids: list[str]) -> None:
    """After the commit that wrote these pending rows: make sure a worker will send them.

    With a Redis broker, a drain (`notifications_drain`) is published only when none is queued or
    at work: the flag DRAIN_FLAG in the broker's Redis says one is, and a drain takes it away only
    after it has found nothing more to send. Under load, one message then carries many bookings'
    rows instead of one each (a booking's request spent about 2.7 ms of CPU publishing its
    message, the worker as much again receiving it). Without a Redis broker, and when tasks run
    eagerly (the embedded default, tests), each row is published as a message of its own."""
    client = _drain_flag_client()
    if client is None:
        for notification_id in notification_ids:
            notification_publish(notification_id)
        return
    try:
        if not client.set(DRAIN_FLAG, "1", nx=True, ex=settings.NOTIFICATIONS_DRAIN_FLAG_SECONDS):
            return  # a drain is queued or at work: it looks for due rows again after dropping the flag
    except redis.RedisError as exc:
        logger.warning("notification drain flag not set (%s); publishing a drain", type(exc).__name__)
    drain_publish()


def drain_publish() -> None:
    """Publish a drain. If the broker is down the rows stay pending and the sweeper sends them."""
    from notifications.tasks import drain_outbox

    _queue(drain_outbox, (), what="notification drain")


def _queue(task, args: tuple, *, what: str, countdown: float | None = None) -> None:
    """Hand a task to the broker, retried once; never fail the caller: the outbox rows are the
    durable copy, and the sweeper re-publishes what was not queued."""
    try:
        task.apply_async(
            args,
            countdown=countdown,
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
        )
    except Exception as exc:  # noqa: BLE001 - see above
        logger.warning("%s not queued (%s); the sweeper will send it", what, type(exc).__name__)


def _due(due_before) -> Q:
    """A pending row whose time has come: the one rule of the claim and the drain's look."""
    return Q(status=Status.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=due_before))


def _due_before(now: datetime) -> datetime:
    # One second of slack: a retry task's countdown may fire a hair before next_attempt_at.
    return now + timedelta(seconds=1)


def _due_ids(now: datetime, limit: int) -> list:
    """Pending rows due now, oldest first."""
    rows = Notification.objects.filter(_due(_due_before(now))).order_by("next_attempt_at")
    return list(rows.values_list("id", flat=True)[:limit])


def notifications_drain(*, batch: int | None = None, seconds: float | None = None) -> int:
    """Send every pending row that is due, a batch at a time, until a look finds none; returns how
    many were tried.

    Ends only after dropping DRAIN_FLAG and finding nothing due: a row committed before the drop
    is found here, a row committed after it is handed over with a drain of its own. After
    `seconds` with more to send, it publishes its successor (keeping the flag) and ends, so other
    messages of the queue are not held up. Each row is claimed by `notification_dispatch`, as
    when it comes in a message of its own: two drains, or a drain and a retry, never both send it."""
    batch = batch or settings.NOTIFICATIONS_DRAIN_BATCH
    seconds = settings.NOTIFICATIONS_DRAIN_SECONDS if seconds is None else seconds
    client = _drain_flag_client()
    started = kept = time.monotonic()
    tried = 0
    while True:
        due = _due_ids(timezone.now(), batch)
        for notification_id in due:
            notification_dispatch(notification_id=str(notification_id))
        tried += len(due)
        if due:
            # Under load more rows are committed while these are sent: look again rather than end
            # and have the next commit publish a drain of its own.
            if time.monotonic() - started < seconds:
                if time.monotonic() - kept > settings.NOTIFICATIONS_DRAIN_FLAG_SECONDS / 3:
                    kept = time.monotonic()
                    _keep_flag(client)
                continue
            drain_publish()
            return tried
        if client is None:
            return tried
        try:
            client.delete(DRAIN_FLAG)
            if not _due_ids(timezone.now(), 1):
                return tried
            if not client.set(DRAIN_FLAG, "1", nx=True, ex=settings.NOTIFICATIONS_DRAIN_FLAG_SECONDS):
                return tried  # a hand-over since the drop published a drain: it sends them
        except redis.RedisError as exc:
            logger.warning("notification drain flag unavailable (%s); the sweeper sends the rest", type(exc).__name__)
            return tried


def _keep_flag(client) -> None:
    if client is not None:
        try:
            client.expire(DRAIN_FLAG, int(settings.NOTIFICATIONS_DRAIN_FLAG_SECONDS))
        except redis.RedisError:
            pass  # it expires: a hand-over then publishes a second drain, which claims rows as this one does


def _drain_flag_client() -> "redis.Redis | None":
    """The broker's Redis, which holds DRAIN_FLAG beside the queue it is about; None when tasks run
    eagerly or the broker is not Redis."""
    from notifications.tasks import send_notification

    conf = send_notification.app.conf
    url = str(conf.broker_url or "")
    if conf.task_always_eager or not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    return _redis_at(url)


@cache
def _redis_at(url: str) -> "redis.Redis":
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def notification_publish(notification_id: str, countdown: float | None = None) -> None:
    """Hand a row to Celery. If the broker is down the row stays pending and the sweeper sends it."""
    from notifications.tasks import send_notification

    _queue(send_notification, (notification_id,), what=f"notification {notification_id}", countdown=countdown)


# ---------------------------------------------------------------------------------------------
# Dispatch


def _claim_update(*, notification_id, now, due_before, stale_before):
    orphaned = Q(status=Status.SENDING, sending_started_at__lte=stale_before)
    changes = {
        # A row taken over from `sending` may have gone out already: look it up first.
        "check_provider_first": Case(When(status=Status.SENDING, then=Value(True)), default=F("check_provider_first")),
        "last_error": Case(When(status=Status.SENDING, then=Value(WORKER_LOST)), default=F("last_error")),
        "status": Status.SENDING,
        "sending_started_at": now,
        "attempts": F("attempts") + 1,
        "updated_at": now,
    }
    return Notification.objects.filter(pk=notification_id).filter(_due(due_before) | orphaned), changes


# Compiled once per connection: the worker claims a row for every message it sends.
_CLAIM = PreparedUpdate(
    Notification, _claim_update, notification_id=UUID, now=datetime, due_before=datetime, stale_before=datetime
)
_CLAIMED = PreparedQuery(
    Notification,
    lambda *, notification_id: Notification.objects.select_related("recipient").filter(pk=notification_id),
    notification_id=UUID,
)


def _claim(notification_id: str, now: datetime) -> bool:
    """Move the row to `sending` if it is due, or take over a `sending` row whose worker died."""
    return (
        _CLAIM.update(
            notification_id=UUID(notification_id),
            now=now,
            due_before=_due_before(now),
            stale_before=now - timedelta(seconds=settings.NOTIFICATIONS_SENDING_STALE_SECONDS),
        )
        == 1
    )


def _address(notification: Notification) -> str | None:
    recipient = notification.recipient
    if notification.channel == Channel.EMAIL:
        return recipient.email or None
    if notification.channel == Channel.PUSH:
        return str(recipient.pk)  # the push channel sends to each of the user's devices
    if recipient.phone:
        return str(recipient.phone)
    return None if notification.channel != Channel.CONSOLE else str(recipient.pk)


def _finish(notification_id: str, **fields) -> int:
    return Notification.objects.filter(pk=notification_id, status=Status.SENDING).update(**fields)


def _fail(notification_id: str, code: str, now: datetime) -> str:
    _finish(notification_id, status=Status.FAILED, last_error=code[:40], next_attempt_at=None, updated_at=now)
    logger.info("notification %s failed: %s", notification_id, code)
    return Status.FAILED


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: base·2^(n-1), capped, scaled by a random 50–100 %."""
    exponential = settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** (attempts - 1)
    ceiling = min(settings.NOTIFICATIONS_RETRY_MAX_SECONDS, exponential)
    return ceiling * random.uniform(0.5, 1.0)


def _retry_later(notification: Notification, error: TransientSendError, now: datetime) -> str:
    if notification.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        return _fail(str(notification.id), error.code, now)
    delay = retry_delay(notification.attempts)
    _finish(
        str(notification.id),
        status=Status.PENDING,
        next_attempt_at=now + timedelta(seconds=delay),
        last_error=error.code,
        check_provider_first=notification.check_provider_first or error.ambiguous,
        updated_at=now,
    )
    logger.info("notification %s retry in %.1fs after %s", notification.id, delay, error.code)
    from notifications.tasks import send_notification

    if not send_notification.app.conf.task_always_eager:
        # Eager mode would run the retry at once, recursively; there the sweeper retries instead.
        notification_publish(str(notification.id), countdown=delay)
    return Status.PENDING


def _accepted_update(*, notification_id, status, now, delivered_at, provider_sid):
    changes = {
        "status": status,
        "sent_at": Coalesce(F("sent_at"), Value(now)),
        "last_error": "",
        "next_attempt_at": None,
        "check_provider_first": False,
        "updated_at": now,
    }
    if delivered_at is not None:
        changes["delivered_at"] = delivered_at
    if provider_sid is not None:
        changes["provider_sid"] = provider_sid
    return Notification.objects.filter(pk=notification_id, status=Status.SENDING), changes


_ACCEPTED = PreparedUpdate(
    Notification,
    _accepted_update,
    optional=("delivered_at", "provider_sid"),
    notification_id=UUID,
    status=str,
    now=datetime,
    delivered_at=datetime,
    provider_sid=str,
)


def _record_accepted(notification: Notification, result: Accepted, now: datetime) -> str:
    try:
        changed = _ACCEPTED.update(
            notification_id=notification.id,
            status=result.status,
            now=now,
            delivered_at=now if result.status == Status.DELIVERED else None,
            provider_sid=result.provider_sid or None,
        )
        if not changed and result.provider_sid:
            # A status callback overtook us and already moved the row on; keep its status.
            Notification.objects.filter(pk=notification.id, provider_sid__isnull=True).update(
                provider_sid=result.provider_sid
            )
    except IntegrityError:
        # The SID already belongs to another row: never bind one provider message to two rows.
        return _fail(str(notification.id), "duplicate_provider_sid", now)
    return result.status


def notification_dispatch(*, notification_id: str, now: datetime | None = None) -> str:
    """Send one outbox row if it is due; returns the row's status afterwards (or 'skipped')."""
    now = now or timezone.now()
    if not _claim(notification_id, now):
        return "skipped"
    (notification,) = _CLAIMED.objects(notification_id=UUID(notification_id))
    if notification.last_error == WORKER_LOST:
        logger.info("notification %s taken over from a dead worker", notification.id)
    recipient = notification.recipient
    if notification.kind == Kind.MARKETING and not consent_is_active(
        subject=recipient, purpose=Purpose.MARKETING_MESSAGES
    ):
        return _fail(notification_id, "consent_withdrawn", now)
    address = _address(notification)
    if address is None or not recipient.is_active:
        return _fail(notification_id, "no_address", now)
    if notification.channel in PHONE_CHANNELS and not phone_may_receive(recipient, notification.kind):
        # The number changed (or was never verified) after the row was written.
        return _fail(notification_id, PHONE_NOT_VERIFIED, now)
    language = language_of(recipient)
    subject, body = render(
        kind=notification.kind,
        language=language,
        channel=notification.channel,
        recipient=recipient,
        context=notification.context,
    )
    outgoing = Outgoing(
        notification_id=str(notification.id),
        kind=notification.kind,
        address=address,
        subject=subject,
        body=body,
        created_at=notification.created_at,
    )
    sender = channel_for(notification.channel)
    try:
        result = None
        if notification.check_provider_first:
            if notification.provider_sid and hasattr(sender, "fetch"):
                result = sender.fetch(notification.provider_sid)
            if result is None:
                result = sender.lookup(outgoing)
            if result is not None:
                logger.info("notification %s found at the provider; not sent again", notification.id)
        if result is None:
            result = sender.send(outgoing)
    except PermanentSendError as error:
        return _fail(notification_id, error.code, now)
    except TransientSendError as error:
        return _retry_later(notification, error, now)
    return _record_accepted(notification, result, now)


def notifications_sweep(*, now: datetime) -> dict:
    """Re-publish rows left pending (broker down, lost retry) or stuck in `sending` (worker died)."""
    grace = timedelta(seconds=settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS)
    stale = timedelta(seconds=settings.NOTIFICATIONS_SENDING_STALE_SECONDS)
    due = (
        Notification.objects.filter(
            Q(status=Status.PENDING, next_attempt_at__lte=now - grace)
            | Q(status=Status.PENDING, next_attempt_at__isnull=True)
            | Q(status=Status.SENDING, sending_started_at__lte=now - stale)
        )
        .order_by("next_attempt_at")
        .values_list("id", "status")[: settings.NOTIFICATIONS_SWEEP_BATCH]
    )
    counts = {"pending": 0, "sending": 0}
    for notification_id, status in due:
        counts[status] += 1
        notification_publish(str(notification_id))
    if counts["pending"] or counts["sending"]:
        logger.info("outbox sweep re-queued %(pending)s pending and %(sending)s stuck rows", counts)
    return counts


# ---------------------------------------------------------------------------------------------
# Provider status callbacks


def notification_apply_provider_status(
    *, provider_sid: str, provider_status: str, notification_id: str | None = None, error_code: str = ""
) -> bool:
    """Move a row up the status ladder; never down. Returns whether this call changed the row."""
    new_status = PROVIDER_STATUS.get(provider_status)
    if new_status is None or not provider_sid:
        return False
    now = timezone.now()
    rows = Q(provider_sid=provider_sid)
    if notification_id:
        try:
            rows |= Q(pk=UUID(notification_id), provider_sid__isnull=True)
        except ValueError:
            pass
    fields = {"status": new_status, "provider_sid": provider_sid, "updated_at": now}
    if new_status == Status.SENT:
        fields["sent_at"] = Coalesce(F("sent_at"), Value(now))
    elif new_status == Status.DELIVERED:
        fields["delivered_at"] = now
    else:
        fields["last_error"] = (f"twilio_{error_code}" if error_code.isdigit() else new_status)[:40]
    changed = Notification.objects.filter(rows, status__in=statuses_below(new_status)).update(**fields)
    return changed > 0


# ---------------------------------------------------------------------------------------------
# Preferences


def preferences_update(
    *,
    user: User,
    sms: bool | None = None,
    whatsapp: bool | None = None,
    email: bool | None = None,
    push: bool | None = None,
) -> NotificationPreference:
    with transaction.atomic():
        preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
        changed = []
        for name, value in (("sms", sms), ("whatsapp", whatsapp), ("email", email), ("push", push)):
            if value is not None and getattr(preference, name) != value:
                setattr(preference, name, value)
                changed.append(name)
        if changed:
            preference.save(update_fields=[*changed, "updated_at"])
    return preference


def marketing_notifications_cancel(*, recipient: User) -> int:
    """Stop marketing rows not yet sent (consent withdrawn)."""
    return Notification.objects.filter(
        recipient=recipient, kind=Kind.MARKETING, status__in=[Status.PENDING, Status.SENDING]
    ).update(status=Status.FAILED, last_error="consent_withdrawn", next_attempt_at=None, updated_at=timezone.now())


# ---------------------------------------------------------------------------------------------
# Reminders


@dataclass(frozen=True)
class ReminderDue:
    """One appointment and one lead time, as plain values (no health data)."""

    appointment_id: UUID | str
    recipient_id: UUID | str
    start: datetime
    clinic_name: str
    timezone: str
    lead: timedelta
    doctor_name: str = ""
    # When the appointment got its current start (booking or last reschedule): a lead whose
    # moment had already passed then is skipped, the confirmation said it all.
    booked_at: datetime | None = None
    # A visit the clinic wants confirmed: the deadline; the message asks to confirm or cancel.
    confirm_by: datetime | None = None


def reminder_event_key(*, appointment_id, lead: timedelta, start: datetime) -> str:
    """Lead and start are in the key: a reschedule gets its own reminder, a replay gets none."""
    minutes = int(lead.total_seconds() // 60)
    return f"appointment_reminder:{appointment_id}:{minutes}m:{start.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"


def reminders_create_due(*, now: datetime, due: Iterable[ReminderDue]) -> list[Notification]:
    """Create the outbox rows of reminders whose time has come; idempotent, safe to run every minute.

    When several leads of one appointment are due at once (beat was down), only the nearest one
    is sent.
    """
    chosen: dict[tuple[str, datetime], ReminderDue] = {}
    for item in due:
        remind_at = item.start - item.lead
        if not (remind_at <= now < item.start):
            continue
        if item.booked_at is not None and item.booked_at > remind_at:
            continue
        key = (str(item.appointment_id), item.start)
        if key not in chosen or item.lead < chosen[key].lead:
            chosen[key] = item
    keys = {
        key: reminder_event_key(appointment_id=item.appointment_id, lead=item.lead, start=item.start)
        for key, item in chosen.items()
    }
    # Beat runs this every minute over every appointment in the window: skip the ones already
    # written with one query instead of one enqueue each.
    written = set(
        Notification.objects.filter(event_key__in=keys.values()).values_list("event_key", flat=True).distinct()
    )
    chosen = {key: item for key, item in chosen.items() if keys[key] not in written}
    if not chosen:
        return []
    recipients = User.objects.in_bulk([item.recipient_id for item in chosen.values()])
    created: list[Notification] = []
    for key, item in chosen.items():
        recipient = recipients.get(item.recipient_id) or recipients.get(UUID(str(item.recipient_id)))
        if recipient is None or not recipient.is_active:
            continue
        context = {
            "clinic_name": item.clinic_name,
            "doctor_name": item.doctor_name,
            "start": item.start.isoformat(),
            "timezone": item.timezone,
            "appointment_id": str(item.appointment_id),
            "lead_minutes": int(item.lead.total_seconds() // 60),
        }
        if item.confirm_by is not None:
            context["confirm_by"] = item.confirm_by.isoformat()
        with transaction.atomic():
            created += notification_enqueue(
                recipient=recipient, kind=Kind.APPOINTMENT_REMINDER, event_key=keys[key], context=context
            )
    return created
