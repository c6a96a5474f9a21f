"""Booking errors, each with a stable code from API.md."""

from django.utils.translation import gettext_lazy as _

from medplatform.errors import ApplicationError


class SlotUnavailable(ApplicationError):
    code = "slot_unavailable"
    status_code = 409
    default_detail = _("This time is not available. Choose another slot.")


class BookingLimitReached(SlotUnavailable):
    """Anti-hoarding limits (too many upcoming appointments, a second one with the same doctor that
    day). A SlotUnavailable for the code that handles one, with its own code for clients."""

    code = "booking_limit_reached"
    default_detail = _("You already hold as many upcoming appointments as allowed.")


class TooLateToCancel(ApplicationError):
    code = "too_late_to_cancel"
    status_code = 409
    default_detail = _("It is too late to cancel or move this appointment; please call the clinic.")


class InvalidTransition(ApplicationError):
    code = "invalid_transition"
    status_code = 409
    default_detail = _("The appointment cannot change to that status now.")
