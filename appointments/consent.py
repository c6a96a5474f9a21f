from appointments.services import appointments_for_withdrawn_consent
from privacy import cascades
from privacy.models import ConsentEvent, Purpose


def appointment_health_data_withdrawn(grant: ConsentEvent) -> dict:
    """Runs inside the withdrawal's transaction: future bookings cancelled, reasons erased."""
    return appointments_for_withdrawn_consent(patient=grant.subject)


def register_cascades() -> None:
    cascades.register(Purpose.APPOINTMENT_HEALTH_DATA, on_withdraw=appointment_health_data_withdrawn)
