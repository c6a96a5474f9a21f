from django.apps import AppConfig


class StandingConfig(AppConfig):
    name = "standing"
    verbose_name = "No-show policy"

    def ready(self):
        from privacy.contract import register
        from standing.privacy_hooks import CONTRACT

        register(CONTRACT)
