"""Who may see and change appointments and schedules. API views and services call these."""

from accounts.models import ClinicMembership, Doctor, User
from accounts.permissions import can_act_for
from appointments.models import Appointment


def is_staff_of(user: User, clinic_id) -> bool:
    return (
        user.is_authenticated
        and user.is_clinic_staff
        and ClinicMembership.objects.filter(user=user, clinic_id=clinic_id).exists()
    )


def is_doctor_of(user: User, appointment: Appointment) -> bool:
    return user.is_authenticated and user.is_doctor and appointment.doctor.user_id == user.id


def can_view_appointment(user: User, appointment: Appointment) -> bool:
    """The patient (or their guardian), the doctor and that clinic's staff: the only ones who see
    it (and its reason)."""
    if not user.is_authenticated:
        return False
    return can_act_for(user, appointment.patient_id) or acts_for_clinic(user, appointment)


def can_see_meeting_url(user: User, appointment: Appointment) -> bool:
    """The video room is private to the people in the call: the patient (or their guardian) and the doctor."""
    return can_act_for(user, appointment.patient_id) or is_doctor_of(user, appointment)


def acts_for_clinic(user: User, appointment: Appointment) -> bool:
    """The doctor of the appointment or staff of its clinic."""
    return is_doctor_of(user, appointment) or is_staff_of(user, appointment.clinic_id)


def can_reschedule(user: User, appointment: Appointment) -> bool:
    return can_act_for(user, appointment.patient_id) or is_staff_of(user, appointment.clinic_id)


def can_manage_schedule(user: User, doctor: Doctor, clinic_id=None) -> bool:
    """The doctor themself, or staff of the clinic concerned (of any of the doctor's clinics if none)."""
    if not user.is_authenticated:
        return False
    if user.is_doctor and doctor.user_id == user.id:
        return True
    if not user.is_clinic_staff:
        return False
    memberships = ClinicMembership.objects.filter(user=user, clinic__doctors=doctor)
    if clinic_id is not None:
        memberships = memberships.filter(clinic_id=clinic_id)
    return memberships.exists()
