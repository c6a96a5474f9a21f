import uuid
import zoneinfo
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from accounts import auth_state
from medplatform.encryption import EncryptedTextField, keyed_hash_field
from medplatform.search_keys import with_search_keys
from medplatform.timestamps import TimeStampedModel


class UserQuerySet(models.QuerySet):
    """A bulk write would bypass User.save, which tells the request-time state (accounts.auth_state)."""

    def update(self, **kwargs):
        if auth_state.STATE_SOURCES & set(kwargs):
            raise TypeError("Change a user's role, activity, language or password through User.save.")
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        if auth_state.STATE_SOURCES & set(fields):
            raise TypeError("Change a user's role, activity, language or password through User.save.")
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def delete(self):
        # A deleted user's state must not outlive the row: as User.delete, for each of them.
        ids = list(self.values_list("pk", flat=True))
        marks = [(user_id, auth_state.writer_begin(user_id)) for user_id in ids]
        result = super().delete()
        for user_id, mark in marks:
            if mark is not None:
                transaction.on_commit(lambda user_id=user_id, mark=mark: auth_state.writer_end(user_id, mark))
        return result


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True, role=User.Role.ADMIN)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin, TimeStampedModel):
    class Role(models.TextChoices):
        PATIENT = "patient", _("Patient")
        DOCTOR = "doctor", _("Doctor")
        CLINIC_STAFF = "clinic_staff", _("Clinic staff")
        ADMIN = "admin", _("Platform admin")

    class Language(models.TextChoices):
        TURKISH = "tr", _("Turkish")
        ENGLISH = "en", _("English")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(_("e-mail"), unique=True)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    phone = PhoneNumberField(_("phone"), blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.TURKISH)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.PATIENT)
    # Under the user's own data key (privacy.PatientDataKey), destroyed when the account is erased.
    national_id = EncryptedTextField(_("TC Kimlik No"), null=True, blank=True, owner="self")
    # HMAC of the national id, keyed from CRYPTOGRAPHY_KEY: uniqueness without plaintext.
    national_id_hash = keyed_hash_field(
        purpose="national_id", source="national_id", null=True, blank=True, unique=True, editable=False
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    erased_at = models.DateTimeField(null=True, blank=True)
    # Set by a one-time code sent to the address (accounts.verification); a change of the address
    # clears it. SMS and WhatsApp go only to a verified phone.
    email_verified = models.BooleanField(_("e-mail verified"), default=False)
    phone_verified = models.BooleanField(_("phone verified"), default=False)
    # search_key("last first"), kept on every save: doctor search matches and sorts on it.
    name_key = models.CharField(max_length=201, blank=True, db_index=True, editable=False)
    # Optional; a dependant's comes from the guardianship. Patients aged 65 or more are exempt
    # from the release of unconfirmed visits and from no-show strikes (accounts.exemptions).
    birth_date = models.DateField(_("birth date"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, update_fields=None, **kwargs):
        update_fields = with_search_keys(self, update_fields, {"name_key": ("last_name", "first_name")})
        changes_state = not self._state.adding and (
            update_fields is None or bool(auth_state.STATE_SOURCES & set(update_fields))
        )
        if not changes_state:
            super().save(*args, update_fields=update_fields, **kwargs)
            return
        # Requests read the role, activity, language and password usability from Redis: tell it
        # first (refusing the write if it cannot be told), then again once the row is committed.
        mark = auth_state.writer_begin(self.pk)
        super().save(*args, update_fields=update_fields, **kwargs)
        if mark is not None:
            user_id = self.pk
            transaction.on_commit(lambda: auth_state.writer_end(user_id, mark), using=kwargs.get("using"))

    def delete(self, *args, **kwargs):
        mark = auth_state.writer_begin(self.pk)
        user_id = self.pk
        result = super().delete(*args, **kwargs)
        if mark is not None:
            transaction.on_commit(lambda: auth_state.writer_end(user_id, mark), using=kwargs.get("using"))
        return result

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        deferred = self.get_deferred_fields()
        if fields is not None and deferred and set(fields) <= deferred:
            # A request's user (medplatform.authentication) has only its state loaded: the first
            # read of another field loads all the others in one query, not one query each.
            fields = sorted(deferred)
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)

    def has_usable_password(self) -> bool:
        if "password" in self.get_deferred_fields() and hasattr(self, "_password_usable"):
            return self._password_usable
        return super().has_usable_password()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def masked_national_id(self) -> str | None:
        if not self.national_id:
            return None
        return "*" * (len(self.national_id) - 4) + self.national_id[-4:]

    @property
    def is_patient(self) -> bool:
        return self.role == self.Role.PATIENT

    @property
    def is_doctor(self) -> bool:
        return self.role == self.Role.DOCTOR

    @property
    def is_clinic_staff(self) -> bool:
        return self.role == self.Role.CLINIC_STAFF

    @property
    def is_platform_admin(self) -> bool:
        return self.role == self.Role.ADMIN


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(value)s"), params={"value": value})


class Clinic(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    city = models.CharField(_("city"), max_length=100, db_index=True)
    address = models.CharField(_("address"), max_length=500)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Istanbul", validators=[validate_timezone]
    )
    min_notice_minutes = models.PositiveIntegerField(_("minimum notice (minutes)"), default=120)
    horizon_days = models.PositiveIntegerField(_("booking horizon (days)"), default=90)
    cancel_cutoff_minutes = models.PositiveIntegerField(_("patient cancellation cutoff (minutes)"), default=120)
    # Confirm or release (docs/confirmation.md): in-person visits booked while this is on must be
    # confirmed by `confirmation_hour` o'clock (the clinic's time) of the day before, or are released.
    requires_confirmation = models.BooleanField(_("requires confirmation the day before"), default=False)
    confirmation_hour = models.PositiveSmallIntegerField(
        _("confirmation deadline (hour of the day before)"), default=20
    )
    # search_key of name and city, kept on every save for doctor search.
    name_key = models.CharField(max_length=200, blank=True, editable=False)
    city_key = models.CharField(max_length=100, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confirmation_hour__lte=23), name="clinic_confirmation_hour_0_to_23"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.city})"

    def save(self, *args, update_fields=None, **kwargs):
        update_fields = with_search_keys(self, update_fields, {"name_key": ("name",), "city_key": ("city",)})
        super().save(*args, update_fields=update_fields, **kwargs)


class ClinicMembership(TimeStampedModel):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Clinic admin")
        RECEPTIONIST = "receptionist", _("Receptionist")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="clinic_memberships")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        ordering = ["clinic", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "clinic"], name="unique_clinic_membership")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.clinic} ({self.role})"


class Specialty(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(unique=True)
    name_tr = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)
    # search_key of each name, kept on every save: `specialty` matches either by equality.
    name_tr_key = models.CharField(max_length=100, blank=True, db_index=True, editable=False)
    name_en_key = models.CharField(max_length=100, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["slug"]
        verbose_name_plural = "specialties"

    def __str__(self) -> str:
        return self.name_en

    def save(self, *args, update_fields=None, **kwargs):
        keys = {"name_tr_key": ("name_tr",), "name_en_key": ("name_en",)}
        update_fields = with_search_keys(self, update_fields, keys)
        super().save(*args, update_fields=update_fields, **kwargs)


class Doctor(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="doctor")
    title = models.CharField(_("title"), max_length=50, blank=True)
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, related_name="doctors")
    registration_number = models.CharField(_("registration number"), max_length=50, unique=True)
    education = models.TextField(_("education"), blank=True)
    bio = models.TextField(_("bio"), blank=True, max_length=4000)
    photo = models.FileField(_("photo"), upload_to="doctors/", blank=True)
    clinics = models.ManyToManyField(Clinic, related_name="doctors", blank=True)
    is_active = models.BooleanField(default=True)
    # Kept by the reviews app in the same transaction as each review change, so search reads
    # them without an aggregate query.
    rating_sum = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["user__last_name", "user__first_name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.title, self.user.first_name, self.user.last_name) if part)

    @property
    def rating_avg(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None


class ContactVerification(TimeStampedModel):
    """One one-time code sent to a user's e-mail address or phone.

    The code is never stored: it is derived from the row's random id under CRYPTOGRAPHY_KEY
    (accounts.verification.verification_code) when the message is rendered, and the row keeps
    only a keyed hash of it, of the address it went to, an expiry and the attempts made."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        PHONE = "phone", _("phone")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="contact_verifications")
    channel = models.CharField(max_length=5, choices=Channel.choices)
    destination_hash = keyed_hash_field(purpose="verification_destination", kept_for=timedelta(days=1))
    code_hash = keyed_hash_field(purpose="verification_code_check", kept_for=timedelta(days=1))
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "channel", "created_at"], name="contact_verification_user_idx")]

    def __str__(self) -> str:
        return f"{self.channel} verification of {self.user_id}"


class Guardianship(TimeStampedModel):
    """A patient (the guardian) acting for a dependant: a child, or an adult in their care with a
    documented authority. The dependant is a patient account of its own without a login; while
    the guardianship is active the guardian books, cancels, keeps the health profile and gives
    consent for them (accounts.permissions.can_act_for). It ends when the dependant claims their
    account (accounts.dependants.dependant_claim); the row stays as the record of who acted."""

    class Relationship(models.TextChoices):
        PARENT = "parent", _("Parent")
        LEGAL_GUARDIAN = "legal_guardian", _("Legal guardian")
        CAREGIVER = "caregiver", _("Caregiver with a documented authority")

    class Authority(models.TextChoices):
        COURT_ORDER = "court_order", _("Court order of guardianship")
        POWER_OF_ATTORNEY = "power_of_attorney", _("Power of attorney")

    class EndReason(models.TextChoices):
        HANDED_OVER = "handed_over", _("The dependant took over their account")
        ACCOUNT_ERASED = "account_erased", _("The guardian's account was erased")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    guardian = models.ForeignKey(User, on_delete=models.PROTECT, related_name="guardianships")
    dependant = models.ForeignKey(User, on_delete=models.PROTECT, related_name="guardians")
    relationship = models.CharField(_("relationship"), max_length=20, choices=Relationship.choices)
    birth_date = models.DateField(_("birth date"))
    authority_type = models.CharField(
        _("authority document type"), max_length=20, choices=Authority.choices, blank=True
    )
    # The number or reference of the court order or power of attorney: it identifies a person.
    # Under the dependant's data key (docs/encryption.md): their erasure shreds it.
    authority_reference = EncryptedTextField(
        _("authority document reference"), blank=True, default="", owner="dependant"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dependant"],
                condition=models.Q(ended_at__isnull=True),
                name="one_active_guardian_per_dependant",
            ),
            models.CheckConstraint(
                condition=~models.Q(guardian=models.F("dependant")), name="guardian_is_not_dependant"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guardian_id} for {self.dependant_id}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class HandoverInvitation(TimeStampedModel):
    """An invitation to a dependant aged 18 or more to claim their own account.

    The token is never stored: notifications.messages.handover_token derives it from the row's
    random id under CRYPTOGRAPHY_KEY when the e-mail is rendered; claiming recomputes it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    guardianship = models.ForeignKey(Guardianship, on_delete=models.PROTECT, related_name="handover_invitations")
    dependant = models.ForeignKey(User, on_delete=models.CASCADE, related_name="handover_invitations")
    expires_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"handover invitation for {self.dependant_id}"


class ClinicInvitation(TimeStampedModel):
    """An invitation to an existing doctor or staff member to also work at another clinic.

    Until the person accepts, nothing is linked: the inviting clinic sees none of their schedule,
    time off or appointments (accounts.services.clinic_invitation_accept links them)."""

    class Kind(models.TextChoices):
        DOCTOR = "doctor", _("Doctor")
        STAFF = "staff", _("Clinic staff")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="clinic_invitations")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # For staff: the ClinicMembership role the membership gets on acceptance; blank for doctors.
    staff_role = models.CharField(max_length=20, choices=ClinicMembership.Role.choices, blank=True)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="clinic_invitations_sent"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "user", "kind"],
                condition=models.Q(status="pending"),
                name="one_pending_clinic_invitation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} invitation of {self.user_id} to {self.clinic_id} ({self.status})"


class ClinicExemption(TimeStampedModel):
    """A clinic marks a patient as exempt (for example in cancer care): their visits there are
    never released for want of a confirmation and never count as no-show strikes.

    The reason is a closed category, never free text: the clinic already knows the patient's
    care, the row only says why the rules do not apply. accounts.exemptions.is_exempt is the one
    question the platform asks; this row is half of its answer (the age is the other half)."""

    class Reason(models.TextChoices):
        ONGOING_TREATMENT = "ongoing_treatment", _("Ongoing treatment (for example cancer care)")
        CARE_NEED = "care_need", _("A disability or care need")
        OTHER = "other", _("Another reason the clinic records")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="exemptions")
    patient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="clinic_exemptions")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    marked_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["clinic", "patient"], name="one_exemption_per_clinic_patient")]

    def __str__(self) -> str:
        return f"exemption of {self.patient_id} at {self.clinic_id} ({self.reason})"
