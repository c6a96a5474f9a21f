from django.apps import AppConfig


class HealthProfilesConfig(AppConfig):
    name = "health_profiles"
