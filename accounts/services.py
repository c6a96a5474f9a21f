"""Writes for users, clinics, staff and doctors. Each owns its transaction."""

import logging

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch
from stdnum.tr import tckimlik

from accounts.birth_dates import check_birth_date
from accounts.models import Clinic, ClinicInvitation, ClinicMembership, Doctor, Specialty, User
from accounts.permissions import is_clinic_admin
from medplatform.encryption import keyed_hash, keyed_hashes
from medplatform.errors import NotFound, PermissionDenied, ValidationFailed

logger = logging.getLogger(__name__)


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(fields={"password": list(exc.messages)}) from exc


def _check_email_free(email: str) -> str:
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ValidationFailed(fields={"email": [_("A user with this e-mail already exists.")]})
    return email


def _national_id_values(national_id: str | None) -> dict:
    if national_id in (None, ""):
        return {"national_id": None, "national_id_hash": None}
    try:
        number = tckimlik.validate(national_id)
    except Exception as exc:  # stdnum raises several ValidationError subclasses
        raise ValidationFailed(fields={"national_id": [_("Not a valid TC Kimlik No.")]}) from exc
    return {"national_id": number, "national_id_hash": keyed_hash(number, purpose="national_id")}


@transaction.atomic
def user_register(
    *, email: str, password: str, first_name: str, last_name: str, phone: str, language: str = "tr"
) -> User:
    """Register a patient."""
    email = _check_email_free(email)
    user = User(email=email, first_name=first_name, last_name=last_name, phone=phone, language=language)
    _check_password(password, user)
    user.set_password(password)
    try:
        user.save()
    except IntegrityError as exc:  # a concurrent registration with the same e-mail
        raise ValidationFailed(fields={"email": [_("A user with this e-mail already exists.")]}) from exc
    return user


@transaction.atomic
def user_update(*, user: User, **changes) -> User:
    """Change a user's own profile fields; national_id is validated, encrypted and hashed; the
    birth date (optional, null clears it) must be a real one; a new e-mail address or phone
    number is unverified until a code sent to it is confirmed."""
    allowed = {"email", "first_name", "last_name", "phone", "language", "national_id", "birth_date"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(fields={name: [_("This field cannot be changed.")] for name in sorted(unknown)})
    if "email" in changes:
        if changes["email"].strip().lower() == user.email:
            changes.pop("email")
        else:
            changes["email"] = _check_email_free(changes["email"])
            changes["email_verified"] = False
    if "phone" in changes:
        if str(changes["phone"] or "") == str(user.phone or ""):
            changes.pop("phone")
        else:
            changes["phone_verified"] = False
    if changes.get("birth_date") is not None:
        check_birth_date(changes["birth_date"], today=timezone.localdate())
    if "national_id" in changes:
        values = _national_id_values(changes.pop("national_id"))
        # Under every configured key: during a key rotation, rows not yet rehashed still count.
        if values["national_id_hash"] and (
            User.objects.filter(national_id_hash__in=keyed_hashes(values["national_id"], purpose="national_id"))
            .exclude(pk=user.pk)
            .exists()
        ):
            raise ValidationFailed(fields={"national_id": [_("This TC Kimlik No is already registered.")]})
        changes.update(values)
    for name, value in changes.items():
        setattr(user, name, value)
    try:
        with transaction.atomic():
            user.save(update_fields=[*changes, "updated_at"])
    except IntegrityError as exc:
        if "email" in changes:  # a concurrent registration or change to the same address
            raise ValidationFailed(fields={"email": [_("A user with this e-mail already exists.")]}) from exc
        raise ValidationFailed(fields={"national_id": [_("This TC Kimlik No is already registered.")]}) from exc
    return user


@transaction.atomic
def clinic_create(*, actor: User, name: str, city: str, address: str, timezone: str) -> Clinic:
    if not actor.is_platform_admin:
        raise PermissionDenied()
    clinic = Clinic(name=name, city=city, address=address, timezone=timezone)
    clinic.full_clean()
    clinic.save()
    return clinic


CLINIC_SETTINGS = frozenset({"requires_confirmation", "confirmation_hour"})


@transaction.atomic
def clinic_settings_update(*, actor: User, clinic: Clinic, **changes) -> Clinic:
    """The clinic's admin (or a platform admin) changes the clinic's confirmation rule: whether
    in-person visits must be confirmed the day before, and by which hour. Visits already booked
    keep the deadline they were booked with (docs/confirmation.md)."""
    if not is_clinic_admin(actor, clinic):
        raise PermissionDenied()
    unknown = set(changes) - CLINIC_SETTINGS
    if unknown:
        raise ValidationFailed(fields={name: [_("This field cannot be changed.")] for name in sorted(unknown)})
    if not 0 <= changes.get("confirmation_hour", clinic.confirmation_hour) <= 23:
        raise ValidationFailed(fields={"confirmation_hour": [_("An hour from 0 to 23.")]})
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    for name, value in changes.items():
        setattr(clinic, name, value)
    clinic.save(update_fields=[*changes, "updated_at"])
    return clinic


def _send_password_set_link(user: User) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = f"{settings.PUBLIC_BASE_URL}/portal/password-set/{uid}/{token}/"
    send_mail(
        subject=_("Set your Medplatform password"),
        message=_("Set your password here: %(link)s") % {"link": link},
        from_email=None,
        recipient_list=[user.email],
        fail_silently=True,
    )


def _new_invited_user(*, email: str, first_name: str, last_name: str, phone: str, role: str) -> User:
    user = User.objects.create_user(
        email=_check_email_free(email), first_name=first_name, last_name=last_name, phone=phone, role=role
    )
    transaction.on_commit(lambda: _send_password_set_link(user))
    return user


def _invite(*, actor: User, clinic: Clinic, user: User, kind: str, staff_role: str = "") -> ClinicInvitation:
    """An existing person is never attached to a clinic by its admin alone: they are invited, and
    nothing is linked (schedule, time off, appointments stay invisible) until they accept."""
    if ClinicInvitation.objects.filter(
        clinic=clinic, user=user, kind=kind, status=ClinicInvitation.Status.PENDING
    ).exists():
        raise ValidationFailed(fields={"email": [_("This person already has a pending invitation to this clinic.")]})
    try:
        with transaction.atomic():
            return ClinicInvitation.objects.create(
                clinic=clinic, user=user, kind=kind, staff_role=staff_role, invited_by=actor
            )
    except IntegrityError as exc:  # a concurrent invitation of the same person
        raise ValidationFailed(
            fields={"email": [_("This person already has a pending invitation to this clinic.")]}
        ) from exc


@transaction.atomic
def clinic_staff_add(
    *, actor: User, clinic: Clinic, email: str, first_name: str, last_name: str, phone: str, role: str
) -> ClinicMembership | ClinicInvitation:
    """Add an admin or receptionist to a clinic: a new user gets a membership and a password-set
    link; an existing staff member gets an invitation (a ClinicInvitation) to accept."""
    if not is_clinic_admin(actor, clinic):
        raise PermissionDenied()
    existing = User.objects.filter(email=email.strip().lower()).first()
    if existing is None:
        user = _new_invited_user(
            email=email, first_name=first_name, last_name=last_name, phone=phone, role=User.Role.CLINIC_STAFF
        )
        return ClinicMembership.objects.create(user=user, clinic=clinic, role=role)
    if existing.role != User.Role.CLINIC_STAFF:
        raise ValidationFailed(fields={"email": [_("This e-mail belongs to a user who cannot be clinic staff.")]})
    if ClinicMembership.objects.filter(user=existing, clinic=clinic).exists():
        raise ValidationFailed(fields={"email": [_("This user is already on the clinic's staff.")]})
    return _invite(actor=actor, clinic=clinic, user=existing, kind=ClinicInvitation.Kind.STAFF, staff_role=role)


@transaction.atomic
def clinic_doctor_add(
    *,
    actor: User,
    clinic: Clinic,
    email: str,
    first_name: str,
    last_name: str,
    phone: str,
    specialty: Specialty,
    registration_number: str,
    title: str = "",
    bio: str = "",
    education: str = "",
) -> Doctor | ClinicInvitation:
    """Add a doctor to a clinic: a new doctor account; an existing doctor (of another clinic) gets
    an invitation to accept instead, and nothing is linked until they do."""
    if not is_clinic_admin(actor, clinic):
        raise PermissionDenied()
    existing = User.objects.filter(email=email.strip().lower()).select_related("doctor").first()
    if existing is not None:
        doctor = getattr(existing, "doctor", None) if existing.is_doctor else None
        if doctor is None or doctor.registration_number != registration_number:
            raise ValidationFailed(fields={"email": [_("A user with this e-mail already exists.")]})
        if doctor.clinics.filter(pk=clinic.pk).exists():
            raise ValidationFailed(fields={"email": [_("This doctor already works at this clinic.")]})
        return _invite(actor=actor, clinic=clinic, user=existing, kind=ClinicInvitation.Kind.DOCTOR)
    else:
        if Doctor.objects.filter(registration_number=registration_number).exists():
            raise ValidationFailed(fields={"registration_number": [_("This registration number is already in use.")]})
        user = _new_invited_user(
            email=email, first_name=first_name, last_name=last_name, phone=phone, role=User.Role.DOCTOR
        )
        doctor = Doctor.objects.create(
            user=user,
            specialty=specialty,
            registration_number=registration_number,
            title=title,
            bio=bio,
            education=education,
        )
    doctor.clinics.add(clinic)
    return doctor


def _pending_invitation(*, user: User, invitation_id) -> ClinicInvitation:
    """The user's own pending invitation, locked; anyone else's is not found."""
    invitation = (
        ClinicInvitation.objects.select_for_update()
        .select_related("clinic")
        .filter(id=invitation_id, user=user)
        .first()
    )
    if invitation is None:
        raise NotFound()
    if invitation.status != ClinicInvitation.Status.PENDING:
        raise ValidationFailed(_("This invitation has already been answered."))
    return invitation


@transaction.atomic
def clinic_invitation_accept(*, user: User, invitation_id) -> ClinicInvitation:
    """Accept one's own invitation: the doctor now works at the clinic, or the staff member joins it."""
    invitation = _pending_invitation(user=user, invitation_id=invitation_id)
    if invitation.kind == ClinicInvitation.Kind.DOCTOR:
        doctor = Doctor.objects.filter(user=user).first()
        if doctor is None:
            raise ValidationFailed(_("Only a doctor can accept this invitation."))
        doctor.clinics.add(invitation.clinic)
    else:
        if not user.is_clinic_staff:
            raise ValidationFailed(_("Only clinic staff can accept this invitation."))
        ClinicMembership.objects.get_or_create(
            user=user, clinic=invitation.clinic, defaults={"role": invitation.staff_role}
        )
    invitation.status = ClinicInvitation.Status.ACCEPTED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at", "updated_at"])
    return invitation


@transaction.atomic
def clinic_invitation_decline(*, user: User, invitation_id) -> ClinicInvitation:
    """Decline one's own invitation: nothing is linked, and the invitation ends."""
    invitation = _pending_invitation(user=user, invitation_id=invitation_id)
    invitation.status = ClinicInvitation.Status.DECLINED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at", "updated_at"])
    return invitation


def refresh_token_rotate(*, refresh: RefreshToken) -> RefreshToken:
    """Blacklist `refresh` and return its successor: of concurrent rotations of one token, one wins.

    simplejwt's own blacklist() is a get_or_create, so two racing refreshes both "blacklist" the
    token and both get a new pair. Here the blacklist row is inserted first: its unique token
    column lets exactly one insert through, and the losers are refused as for a used token."""
    with transaction.atomic(durable=True):
        outstanding, _created = OutstandingToken.objects.get_or_create(
            jti=refresh[jwt_settings.JTI_CLAIM],
            defaults={
                "user_id": refresh.get(jwt_settings.USER_ID_CLAIM),
                "created_at": refresh.current_time,
                "token": str(refresh),
                "expires_at": datetime_from_epoch(refresh["exp"]),
            },
        )
        try:
            with transaction.atomic():
                BlacklistedToken.objects.create(token=outstanding)
        except IntegrityError as exc:
            raise TokenError(_("Token is blacklisted")) from exc
        # The successor keeps the claims (user, token type) under a new id and lifetime.
        successor = RefreshToken(str(refresh), verify=False)
        successor.set_jti()
        successor.set_exp()
        successor.set_iat()
        successor.outstand()
    return successor
