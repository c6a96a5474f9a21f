from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"

    def ready(self):
        from appointments.consent import register_cascades

        register_cascades()

        from appointments.selectors import appointment_privacy_summary
        from privacy.subject_rights import register_summary_provider

        register_summary_provider(appointment_privacy_summary)

        from appointments.retention import register_rules as register_retention_rules

        register_retention_rules()
