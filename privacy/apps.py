from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self):
        from privacy.retention import register_rules

        register_rules()
