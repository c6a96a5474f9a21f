from django.urls import path

from privacy import apis

urlpatterns = [
    path("consent-texts/", apis.ConsentTextListApi.as_view(), name="consent-text-list"),
    path("consents/", apis.ConsentListApi.as_view(), name="consent-list"),
    path("consents/<uuid:consent_id>/withdraw/", apis.ConsentWithdrawApi.as_view(), name="consent-withdraw"),
    path("privacy/requests/", apis.PrivacyRequestApi.as_view(), name="privacy-requests"),
    path("privacy/summary/", apis.PrivacySummaryApi.as_view(), name="privacy-summary"),
    path("privacy/retention/", apis.RetentionTableApi.as_view(), name="privacy-retention"),
    path("me/erase/", apis.AccountEraseApi.as_view(), name="account-erase"),
]
