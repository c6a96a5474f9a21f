"""Family members (DESIGN.md, the guardian row): a patient adds a dependant and acts for them; at
18 the dependant is invited to take over and, on claiming the account, the guardian's access ends.

A dependant is a patient account of its own (so appointments, consents and the health profile
are theirs from the start and stay theirs) with no login: an unusable password and an address
under the reserved `.invalid` domain that no message ever goes to (notifications send to the
guardian, notifications.services.message_recipient). Who may act for whom is decided in one
place, accounts.permissions.can_act_for.
"""

import uuid
from datetime import date, timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.birth_dates import age_on, check_birth_date
from accounts.models import Guardianship, HandoverInvitation, User
from accounts.services import _national_id_values
from medplatform.encryption import keyed_hashes
from medplatform.errors import ApplicationError, NotFound, ValidationFailed
from notifications.models import Channel, Kind
from notifications.services import notification_enqueue
from privacy.context import SYSTEM, ActContext
from privacy.services import audit_record

ADULT_AGE = 18
INVITATION_TTL = timedelta(days=14)
DEPENDANT_EMAIL_DOMAIN = "dependants.invalid"


class NotOfAge(ApplicationError):
    code = "invalid_transition"  # a handover is not yet allowed: one of API.md's named codes
    status_code = 409
    default_detail = gettext_lazy("The dependant can take over their account from the age of 18.")


def _today() -> date:
    return timezone.localdate()


def dependant_list(*, guardian: User) -> QuerySet[Guardianship]:
    """The guardian's active guardianships, with the dependants."""
    return (
        Guardianship.objects.filter(guardian=guardian, ended_at__isnull=True)
        .select_related("dependant")
        .order_by("started_at", "id")
    )


def dependant_get(*, guardian: User, dependant_id) -> Guardianship:
    """One of the guardian's active guardianships, or not_found (another family's dependant too)."""
    guardianship = dependant_list(guardian=guardian).filter(dependant_id=dependant_id).first()
    if guardianship is None:
        raise NotFound()
    return guardianship


def dependant_add(
    *,
    guardian: User,
    first_name: str,
    last_name: str,
    birth_date: date,
    relationship: str,
    national_id: str | None = None,
    authority_type: str = "",
    authority_reference: str = "",
    context: ActContext = SYSTEM,
) -> Guardianship:
    """Create a dependant's patient account in the guardian's care.

    A child needs a parent or legal guardian; an adult (18 or more), or anyone in a caregiver's
    care, needs a documented authority: its type and reference."""
    if not guardian.is_patient or not guardian.has_usable_password():
        raise NotFound()  # only a patient with their own login can be a guardian
    today = _today()
    check_birth_date(birth_date, today=today)
    adult = age_on(birth_date, today) >= ADULT_AGE
    needs_authority = adult or relationship == Guardianship.Relationship.CAREGIVER
    if needs_authority and not (authority_type and authority_reference.strip()):
        message = _("An adult in your care needs a documented authority: its type and reference.")
        fields = {}
        if not authority_type:
            fields["authority_type"] = [message]
        if not authority_reference.strip():
            fields["authority_reference"] = [message]
        raise ValidationFailed(fields=fields)
    if adult and relationship == Guardianship.Relationship.PARENT:
        raise ValidationFailed(
            fields={"relationship": [_("For an adult, choose legal guardian or caregiver, with the authority.")]}
        )
    with transaction.atomic():
        dependant = User(
            email=f"dependant-{uuid.uuid4().hex}@{DEPENDANT_EMAIL_DOMAIN}",
            first_name=first_name,
            last_name=last_name,
            birth_date=birth_date,
            language=guardian.language,
            role=User.Role.PATIENT,
            **_national_id_values(national_id),
        )
        dependant.set_unusable_password()
        try:
            with transaction.atomic():
                dependant.save(force_insert=True)
        except IntegrityError as exc:  # the national id is unique across accounts
            raise ValidationFailed(fields={"national_id": [_("This TC Kimlik No is already registered.")]}) from exc
        guardianship = Guardianship.objects.create(
            guardian=guardian,
            dependant=dependant,
            relationship=relationship,
            birth_date=birth_date,
            authority_type=authority_type if needs_authority else "",
            authority_reference=authority_reference.strip() if needs_authority else "",
        )
        audit_record(
            actor=guardian,
            action="dependant_added",
            patient=dependant,
            metadata={"guardianship": str(guardianship.id), "relationship": relationship},
            context=context,
        )
    return guardianship


def dependant_handover_invite(
    *, guardian: User, dependant_id, email: str, phone: str, context: ActContext = SYSTEM
) -> HandoverInvitation:
    """Invite a dependant aged 18 or more to take over: their own e-mail and phone are recorded
    (unverified) and an invitation with a claim link goes to that e-mail. Earlier invitations
    stop working. The guardian keeps access until the dependant claims the account."""
    guardianship = dependant_get(guardian=guardian, dependant_id=dependant_id)
    if age_on(guardianship.birth_date, _today()) < ADULT_AGE:
        raise NotOfAge()
    email = email.strip().lower()
    now = timezone.now()
    with transaction.atomic():
        dependant = User.objects.select_for_update().get(pk=guardianship.dependant_id)
        if User.objects.filter(email=email).exclude(pk=dependant.pk).exists():
            raise ValidationFailed(fields={"email": [_("A user with this e-mail already exists.")]})
        dependant.email, dependant.phone = email, phone
        dependant.email_verified = dependant.phone_verified = False
        try:
            with transaction.atomic():
                dependant.save(update_fields=["email", "phone", "email_verified", "phone_verified", "updated_at"])
        except IntegrityError as exc:  # the same address claimed concurrently
            raise ValidationFailed(fields={"email": [_("A user with this e-mail already exists.")]}) from exc
        HandoverInvitation.objects.filter(dependant=dependant, claimed_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=now, updated_at=now
        )
        invitation = HandoverInvitation.objects.create(
            guardianship=guardianship, dependant=dependant, expires_at=now + INVITATION_TTL
        )
        notification_enqueue(
            recipient=dependant,
            kind=Kind.HANDOVER_INVITATION,
            event_key=f"handover_invitation:{invitation.id}",
            context={"invitation_id": str(invitation.id)},
            channels=[Channel.EMAIL],
        )
        audit_record(
            actor=guardian,
            action="handover_invited",
            patient=dependant,
            metadata={"guardianship": str(guardianship.id), "invitation": str(invitation.id)},
            context=context,
        )
    return invitation


def _invitation_for(token: str) -> HandoverInvitation | None:
    invitation_id, _dot, digest = str(token).strip().partition(".")
    try:
        invitation_id = uuid.UUID(invitation_id)
    except ValueError:
        return None
    if not digest or digest not in keyed_hashes(str(invitation_id), purpose="handover_token"):
        return None
    return (
        HandoverInvitation.objects.select_for_update()
        .filter(id=invitation_id, claimed_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("guardianship")
        .first()
    )


def dependant_claim(*, token: str, password: str, context: ActContext = SYSTEM) -> User:
    """The dependant claims their account with the e-mailed token and a password of their own:
    the guardianship ends (the guardian can no longer act for them), the appointments, consents
    and health profile stay theirs, and both are told."""
    invalid = ValidationFailed(fields={"token": [_("This link is invalid or has expired.")]})
    with transaction.atomic():
        invitation = _invitation_for(token)
        if invitation is None or invitation.guardianship.ended_at is not None:
            raise invalid
        dependant = User.objects.select_for_update().get(pk=invitation.dependant_id)
        try:
            validate_password(password, dependant)
        except DjangoValidationError as exc:
            raise ValidationFailed(fields={"password": list(exc.messages)}) from exc
        now = timezone.now()
        dependant.set_password(password)
        dependant.email_verified = True  # the link reached this address
        dependant.save(update_fields=["password", "email_verified", "updated_at"])
        guardianship = invitation.guardianship
        guardianship.ended_at = now
        guardianship.end_reason = Guardianship.EndReason.HANDED_OVER
        guardianship.save(update_fields=["ended_at", "end_reason", "updated_at"])
        invitation.claimed_at = now
        invitation.save(update_fields=["claimed_at", "updated_at"])
        audit_record(
            actor=dependant,
            action="guardianship_ended",
            patient=dependant,
            metadata={"guardianship": str(guardianship.id), "guardian": str(guardianship.guardian_id)},
            context=context,
        )
        for told in (dependant, guardianship.guardian):
            notification_enqueue(
                recipient=told,
                kind=Kind.HANDOVER_COMPLETED,
                event_key=f"handover_completed:{guardianship.id}",
                context={},
            )
    return dependant
