from appointments.services import appointments_for_withdrawn_consent
from privacy.models import ConsentEvent


def appointment_health_data_withdrawn(grant: ConsentEvent) -> dict:
    """Runs inside the withdrawal's transaction: future bookings cancelled, reasons erased."""
    return appointments_for_withdrawn_consent(patient=grant.subject)
