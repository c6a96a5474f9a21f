from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self):
        from privacy.contract import register
        from privacy.privacy_hooks import CONTRACT

        register(CONTRACT)
