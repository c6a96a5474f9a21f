from django.apps import AppConfig


class HealthProfilesConfig(AppConfig):
    name = "health_profiles"

    def ready(self):
        from health_profiles.consent import register_cascades

        register_cascades()

        from health_profiles.selectors import health_profile_privacy_summary
        from privacy.subject_rights import register_summary_provider

        register_summary_provider(health_profile_privacy_summary)

        from health_profiles.retention import register_rules as register_retention_rules

        register_retention_rules()
