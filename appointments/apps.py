from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"

    def ready(self):
        from appointments.privacy_hooks import CONTRACT
        from privacy.contract import register

        register(CONTRACT)

        from appointments import cache_versions

        cache_versions.connect()
