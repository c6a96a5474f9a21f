"""No-show policy errors, each with a stable code (API.md)."""

from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medplatform.date_fields import clinic_time
from medplatform.errors import ApplicationError


class BookingBlocked(ApplicationError):
    """The body adds `until` (API.md): when online booking at that clinic opens again."""

    code = "booking_blocked"
    status_code = 403
    default_detail = gettext_lazy("Online booking at this clinic is paused because of missed visits.")

    def __init__(self, *, until: datetime, timezone_name: str | None = None):
        self.until = clinic_time(until, timezone_name)
        detail = _(
            "Online booking at this clinic is paused until %(until)s because of missed visits. "
            "You can appeal a missed visit in the app, or call the clinic."
        ) % {"until": self.until[:16].replace("T", " ")}
        super().__init__(detail)

    @property
    def extra(self) -> dict:
        return {"until": self.until}


class AlreadyAppealed(ApplicationError):
    code = "invalid_transition"  # API.md names no code of its own for a second appeal
    status_code = 409
    default_detail = gettext_lazy("This missed visit has already been appealed; a strike can be appealed once.")


class AppealClosed(ApplicationError):
    code = "invalid_transition"
    status_code = 409
    default_detail = gettext_lazy("This appeal has already been decided.")


class StrikeVoided(ApplicationError):
    code = "invalid_transition"
    status_code = 409
    default_detail = gettext_lazy("This missed visit no longer counts: there is nothing to appeal.")
