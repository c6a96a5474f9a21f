from django.apps import AppConfig


class HealthProfilesConfig(AppConfig):
    name = "health_profiles"

    def ready(self):
        from health_profiles.consent import register_cascades

        register_cascades()
