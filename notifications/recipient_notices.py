"""The messages of privacy's recipient notices (privacy/recipient_notices.py): a doctor or a clinic's
staff member who received a patient's data is told it was corrected or erased. The body holds no
health content; the patient's name appears in the e-mail only, never in a short message."""

from notifications.models import Kind
from notifications.services import notification_enqueue


def recipient_notice_enqueue(*, recipient, event: str, event_key: str, patient_name: str, **_signal) -> int:
    rows = notification_enqueue(
        recipient=recipient,
        kind=Kind.RECIPIENT_NOTICE,
        event_key=event_key,
        context={"notice_event": event, "patient_name": patient_name},
    )
    return len(rows)
