"""Scoped reads of health entries and share grants."""

import datetime
import uuid
from types import SimpleNamespace

from django.conf import settings
from django.db.models import DateTimeField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import acted_for_filter, can_act_for
from appointments.selectors import last_visit_start
from health_profiles.models import CATEGORY_GROUPS, HealthEntry, ShareGrant
from medplatform.prepared_queries import PreparedQuery
from privacy.context import SYSTEM, ActContext
from privacy.guard import sensitive_read
from privacy.models import ConsentText, Purpose


def entry_list(*, viewer: User) -> QuerySet[HealthEntry]:
    """The viewer's own entries (a patient's own profile; nobody else's)."""
    return HealthEntry.objects.filter(patient_id=viewer.pk).order_by("created_at", "id")


def entry_list_for(*, actor: User, patient: User, context: ActContext = SYSTEM) -> QuerySet[HealthEntry]:
    """A patient's entries read by themself or by their guardian (a guardian's read is audited,
    like any read of health content by someone other than the patient)."""
    if not can_act_for(actor, patient.pk):
        return HealthEntry.objects.none()
    sensitive_read(actor=actor, subject=patient, what="health_profile_viewed_by_guardian", context=context)
    return entry_list(viewer=patient)


def entry_get(*, actor: User, entry_id, context: ActContext = SYSTEM) -> HealthEntry | None:
    """One entry of a patient the actor may act for (their own or a dependant's), or None."""
    entry = HealthEntry.objects.filter(acted_for_filter(actor), id=entry_id).select_related("patient").first()
    if entry is not None:
        sensitive_read(
            actor=actor,
            subject=entry.patient,
            what="health_profile_viewed_by_guardian",
            categories=[entry.category],
            context=context,
        )
    return entry


def grouped(entries) -> dict[str, list[HealthEntry]]:
    profile: dict[str, list[HealthEntry]] = {group: [] for group in CATEGORY_GROUPS.values()}
    for entry in entries:
        profile[CATEGORY_GROUPS[entry.category]].append(entry)
    return profile


def shares_with_end() -> QuerySet[ShareGrant]:
    """Every share, annotated with `ends_at`: its own expiry, or, without one, the configured
    number of days after the patient's last visit with that doctor (the grant time when that is
    later, or when there is no visit), so the end moves with the care episode.

    A later visit re-opens a share whose consent was never withdrawn: the patient agreed to
    "until N days after my last visit with this doctor", and that visit is now the last one.
    """
    last_contact = Greatest(
        Coalesce(last_visit_start(patient=OuterRef("patient_id"), doctor=OuterRef("doctor_id")), F("created_at")),
        F("created_at"),
    )
    after_care = ExpressionWrapper(
        last_contact + Value(datetime.timedelta(days=settings.SHARE_DEFAULT_DAYS_AFTER_LAST_VISIT)),
        output_field=DateTimeField(),
    )
    return ShareGrant.objects.annotate(ends_at=Coalesce(F("expires_at"), after_care, output_field=DateTimeField()))


def active_shares(*, now: datetime.datetime | None = None) -> QuerySet[ShareGrant]:
    """Shares in force (at `now`, by default the present): naming at least one category, not ended
    (see `shares_with_end`), consent not withdrawn and given on the current notice version.

    A withdrawal deletes the grant row as well; the consent checks here make an access decision
    never depend on a cascade alone. A share naming no category (allowed before categories were
    required, when it meant "everything") grants nothing: a consent under KVKK Art. 6 must be
    specific, and failing closed here does not depend on a data migration having run.
    """
    current_version = (
        ConsentText.objects.filter(purpose=Purpose.HEALTH_PROFILE_SHARE).order_by("-version").values("version")[:1]
    )
    return (
        shares_with_end()
        .filter(consent__withdrawal__isnull=True, consent__text_version=Subquery(current_version))
        .filter(ends_at__gt=timezone.now() if now is None else now)
        .exclude(categories=[])
    )


_SHARE_COLUMNS = tuple(field.attname for field in ShareGrant._meta.concrete_fields)
_PATIENT_COLUMNS = ("id", "first_name", "last_name")

# The share check of every doctor's read, compiled once per connection from `active_shares` itself
# (building and compiling that query cost about 2 ms of Python per read; docs/performance.md).
_share_in_force = PreparedQuery(
    ShareGrant,
    lambda doctor_user_id, patient_id, now: (
        active_shares(now=now)
        .filter(doctor__user_id=doctor_user_id, patient_id=patient_id)
        .order_by("-created_at", "id")
        .values(*_SHARE_COLUMNS, "ends_at", *(f"patient__{name}" for name in _PATIENT_COLUMNS[1:]))[:1]
    ),
    doctor_user_id=uuid.UUID,
    patient_id=uuid.UUID,
    now=datetime.datetime,
)


def share_active_for(*, doctor_user: User, patient_id) -> ShareGrant | None:
    """The newest share in force from the patient to this doctor, or None. Its patient is loaded
    with the id and name only: nothing of theirs is decrypted for an access decision."""
    patient_id = ShareGrant._meta.get_field("patient").to_python(patient_id)
    rows = _share_in_force.rows(doctor_user_id=doctor_user.pk, patient_id=patient_id, now=timezone.now())
    if not rows:
        return None
    row = rows[0]
    share = ShareGrant.from_db(ShareGrant.objects.db, _SHARE_COLUMNS, [row[name] for name in _SHARE_COLUMNS])
    share.ends_at = row["ends_at"]
    patient = {"id": share.patient_id, **{name: row[f"patient__{name}"] for name in _PATIENT_COLUMNS[1:]}}
    loaded = [field.attname for field in User._meta.concrete_fields if field.attname in patient]
    share.patient = User.from_db(User.objects.db, loaded, [patient[name] for name in loaded])
    return share


def shared_profile_list(*, viewer: User) -> QuerySet[ShareGrant]:
    """Active shares to the viewing doctor, with the patient loaded for the name."""
    return active_shares().filter(doctor__user_id=viewer.pk).select_related("patient").order_by("-created_at", "id")


def shared_entries(*, share: ShareGrant) -> QuerySet[HealthEntry]:
    """Only the categories the share names; nothing when it names none."""
    return _entries_in(patient_id=share.patient_id, categories=share.effective_categories)


def _entries_in(*, patient_id, categories) -> QuerySet[HealthEntry]:
    entries = HealthEntry.objects.filter(patient_id=patient_id, category__in=categories)
    return entries.order_by("created_at", "id")


_ENTRY_COLUMNS = tuple(field.attname for field in HealthEntry._meta.concrete_fields)
# `shared_entries` compiled once per connection and set of shared categories (at most 15).
_entries_by_categories: dict[tuple[str, ...], PreparedQuery] = {}


def shared_entry_list(*, share: ShareGrant) -> list[SimpleNamespace]:
    """The entries of `shared_entries`, read without building and compiling the query again: each
    with an entry's attributes (decrypted by the fields' own converters), read-only values rather
    than model instances, which cost about 0.3 ms per 50-entry read to build."""
    categories = tuple(share.effective_categories)
    prepared = _entries_by_categories.get(categories)
    if prepared is None:
        prepared = _entries_by_categories[categories] = PreparedQuery(
            HealthEntry,
            lambda patient_id: _entries_in(patient_id=patient_id, categories=categories).values(*_ENTRY_COLUMNS),
            patient_id=uuid.UUID,
        )
    return [SimpleNamespace(**row) for row in prepared.rows(patient_id=share.patient_id)]


def appointments_of(*, patient: User) -> list:
    """The patient's appointments for the export, through the appointments app's own scoping."""
    from appointments.selectors import appointment_list

    return list(appointment_list(viewer=patient))


def health_profile_privacy_summary(user: User) -> list[dict]:
    """The health-profile part of the privacy summary (registered with privacy.subject_rights):
    how many entries are kept and which doctors may read which categories now."""
    entries = HealthEntry.objects.filter(patient_id=user.pk).count()
    shares = list(active_shares().filter(patient_id=user.pk).select_related("doctor__user"))
    if not entries and not shares:
        return []
    return [
        {
            "data": _("Your health profile (%(n)d entries): allergies, medications, conditions, treatments")
            % {"n": entries},
            "purpose": _("Keeping your health profile and sharing it with the doctors you chose"),
            "legal_basis": _("KVKK Art. 6: explicit consent (health_profile_storage, health_profile_share)"),
            "recipients": [f"{share.doctor.name}: {', '.join(share.effective_categories)}" for share in shares],
        }
    ]
