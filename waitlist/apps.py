from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "waitlist"

    def ready(self):
        from appointments import consent, events, held_time
        from privacy.contract import register
        from waitlist import selectors, services
        from waitlist.models import HELD_SLOT_CONSTRAINT
        from waitlist.privacy_hooks import CONTRACT

        register(CONTRACT)
        held_time.register(held_time.HeldTime(rows=selectors.held_rows, constraints=frozenset({HELD_SLOT_CONSTRAINT})))
        events.on_time_freed(services.offers_for_freed_time)
        events.on_time_taken(services.offers_for_taken_time)
        consent.also_under_booking_consent(
            consent.BookingConsentStep(
                on_withdraw=services.waitlist_for_withdrawn_consent,
                held_rows=selectors.rows_held_for_booking,
                doctors=services.doctors_of_patient,
            )
        )
