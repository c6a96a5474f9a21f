"""Writes on health profiles: entries under storage consent, audited doctor reads, exports."""

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import can_act_for
from health_profiles import fhir, selectors
from health_profiles.models import CATEGORY_FIELDS, SPECIFIC_FIELDS, Category, HealthEntry, Severity, ShareGrant
from health_profiles.permissions import can_read_health_profile
from medplatform.errors import NotFound, ValidationFailed
from privacy.context import SYSTEM, ActContext
from privacy.guard import consent_hold, sensitive_read
from privacy.models import Purpose
from privacy.services import audit_record
from privacy.subject_rights import export_document

EDITABLE_FIELDS = ("name", "details", *SPECIFIC_FIELDS)


def _local_today() -> datetime.date:
    return timezone.localdate(timezone=ZoneInfo(settings.DEFAULT_CLINIC_TIMEZONE))


def entry_validate(*, category: str, values: dict) -> dict:
    """Apply the per-category rules to a full set of values; return them cleaned.

    Error messages name the field and never repeat the value: it is health data.
    """
    errors: dict[str, list[str]] = {}
    if category not in Category.values:
        raise ValidationFailed(fields={"category": [_("Not a valid category.")]})
    cleaned = {field: values.get(field) for field in EDITABLE_FIELDS}
    cleaned["name"] = (cleaned["name"] or "").strip()
    cleaned["details"] = (cleaned["details"] or "").strip()
    if not cleaned["name"]:
        errors["name"] = [_("This field is required.")]
    allowed = CATEGORY_FIELDS[category]
    for field in SPECIFIC_FIELDS:
        value = cleaned[field]
        if isinstance(value, str):
            value = value.strip() or None
            cleaned[field] = value
        if value is not None and field not in allowed:
            errors[field] = [_("This field is not used for this category.")]
    if category == Category.ALLERGY:
        if cleaned["severity"] is None:
            errors["severity"] = [_("Choose the severity of the allergy.")]
        elif cleaned["severity"] not in Severity.values:
            errors["severity"] = [_("Not a valid choice.")]
    if category == Category.CONDITION and cleaned["diagnosed_on"] and cleaned["diagnosed_on"] > _local_today():
        errors["diagnosed_on"] = [_("The diagnosis date cannot be in the future.")]
    if category == Category.TREATMENT and cleaned["started_on"] and cleaned["ended_on"]:
        if cleaned["ended_on"] < cleaned["started_on"]:
            errors["ended_on"] = [_("The end date cannot be before the start date.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def entry_create(*, patient: User, category: str, values: dict, actor: User | None = None) -> HealthEntry:
    """Store a new entry; refused with consent_required without an active storage consent.
    `actor` is the patient (the default) or their guardian."""
    if actor is not None and not can_act_for(actor, patient.pk):
        raise NotFound()
    cleaned = entry_validate(category=category, values=values)
    with transaction.atomic():
        consent_hold(subject=patient, purpose=Purpose.HEALTH_PROFILE_STORAGE)
        return HealthEntry.objects.create(patient=patient, category=category, **cleaned)


def entry_update(*, entry: HealthEntry, values: dict) -> HealthEntry:
    """Change some fields of an entry (not its category); needs the storage consent too."""
    if "category" in values and values["category"] != entry.category:
        raise ValidationFailed(fields={"category": [_("The category of an entry cannot change; add a new entry.")]})
    with transaction.atomic():
        consent_hold(subject=entry.patient, purpose=Purpose.HEALTH_PROFILE_STORAGE)
        # The row as it is now, locked: a withdrawal's cascade may have deleted it meanwhile.
        entry = HealthEntry.objects.select_for_update().filter(pk=entry.pk).first()
        if entry is None:
            raise NotFound()
        merged = {field: getattr(entry, field) for field in EDITABLE_FIELDS}
        merged.update({field: value for field, value in values.items() if field in EDITABLE_FIELDS})
        cleaned = entry_validate(category=entry.category, values=merged)
        changed = [field for field in EDITABLE_FIELDS if getattr(entry, field) != cleaned[field]]
        if changed:
            for field in changed:
                setattr(entry, field, cleaned[field])
            entry.save(update_fields=[*changed, "updated_at"])
    return entry


def entry_delete(*, entry: HealthEntry) -> None:
    """The patient may always remove data about themselves, consent or not."""
    entry.delete()


def shared_profile_read(*, viewer: User, patient_id, context: ActContext = SYSTEM) -> tuple[ShareGrant, list]:
    """A doctor's read of a shared profile: only the shared categories, always audited."""
    share = can_read_health_profile(viewer, patient_id)
    if share is None:
        raise NotFound()
    entries = selectors.shared_entry_list(share=share)
    sensitive_read(
        actor=viewer,
        subject=share.patient,
        what="health_profile_read",
        categories=share.effective_categories,
        metadata={"share": str(share.id), "consent": str(share.consent_id), "entries": len(entries)},
        context=context,
    )
    return share, entries


def profile_export(*, patient: User, export_format: str, context: ActContext = SYSTEM) -> dict:
    """Everything the platform holds about the patient, as JSON or a FHIR R4 Bundle; audited."""
    with transaction.atomic():
        entries = list(selectors.entry_list(viewer=patient))
        appointments = selectors.appointments_of(patient=patient)
        if export_format == "fhir":
            document = fhir.bundle_for(patient=patient, entries=entries, appointments=appointments)
        else:
            document = export_document(user=patient)
        audit_record(
            actor=patient,
            action="health_profile_exported",
            patient=patient,
            categories=sorted({entry.category for entry in entries}),
            metadata={"format": export_format, "entries": len(entries), "appointments": len(appointments)},
            context=context,
        )
    return document
