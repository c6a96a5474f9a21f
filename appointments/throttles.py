from rest_framework.throttling import UserRateThrottle

from accounts.throttles import ClientAddressMixin


class BookingThrottle(ClientAddressMixin, UserRateThrottle):
    """Bookings and reschedules per user (THROTTLE_BOOKING): slot hoarding is a real abuse."""

    scope = "booking"
