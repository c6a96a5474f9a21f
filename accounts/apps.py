from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from accounts.privacy_hooks import CONTRACT
        from privacy.contract import register

        register(CONTRACT)
