from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"

    def ready(self):
        from privacy.subject_rights import register_summary_provider
        from reviews.consent import register_cascades
        from reviews.selectors import review_privacy_summary

        register_cascades()
        register_summary_provider(review_privacy_summary)
