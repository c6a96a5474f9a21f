from rest_framework.throttling import UserRateThrottle


class BookingThrottle(UserRateThrottle):
    """Bookings and reschedules per user (THROTTLE_BOOKING): slot hoarding is a real abuse."""

    scope = "booking"
