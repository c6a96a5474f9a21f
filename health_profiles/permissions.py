"""Who may read a health profile. API views, the portal and services all ask these."""

from accounts.models import User
from health_profiles.models import ShareGrant
from health_profiles.selectors import share_active_for


def can_read_health_profile(user: User, patient_id) -> ShareGrant | None:
    """The active share that lets this doctor read the patient's profile, or None.

    Clinic staff and platform admins never read health entries, whatever their other rights.
    """
    if not (user.is_authenticated and user.is_doctor):
        return None
    return share_active_for(doctor_user=user, patient_id=patient_id)
