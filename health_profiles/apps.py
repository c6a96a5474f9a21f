from django.apps import AppConfig


class HealthProfilesConfig(AppConfig):
    name = "health_profiles"

    def ready(self):
        from health_profiles.privacy_hooks import CONTRACT
        from privacy.contract import register

        register(CONTRACT)
