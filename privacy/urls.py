from django.urls import path

from privacy import apis

urlpatterns = [
    path("consent-texts/", apis.ConsentTextListApi.as_view(), name="consent-text-list"),
    path("consents/", apis.ConsentListApi.as_view(), name="consent-list"),
    path("consents/<uuid:consent_id>/withdraw/", apis.ConsentWithdrawApi.as_view(), name="consent-withdraw"),
]
