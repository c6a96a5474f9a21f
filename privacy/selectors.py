"""Scoped reads of consent and audit records."""

from django.db.models import QuerySet

from accounts.models import User
from privacy.models import AuditEntry


def audit_list_for_patient(*, patient: User) -> QuerySet[AuditEntry]:
    """Every audit entry about the patient (who read, received, exported or withdrew), newest first."""
    return (
        AuditEntry.objects.filter(patient_id=patient.pk).select_related("actor", "actor__doctor").order_by("-at", "-id")
    )
