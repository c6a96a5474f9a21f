from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"

    def ready(self):
        from privacy.subject_rights import register_erasure_step, register_summary_provider
        from reviews.consent import register_cascades
        from reviews.selectors import review_privacy_summary

        register_cascades()
        from reviews.services import reviews_erase

        register_summary_provider(review_privacy_summary)
        register_erasure_step(lambda user, context: reviews_erase(patient=user, context=context))
