from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"

    def ready(self):
        from privacy.contract import register
        from reviews.privacy_hooks import CONTRACT

        register(CONTRACT)
