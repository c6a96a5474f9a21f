from django.urls import path

from waitlist import apis

urlpatterns = [
    path("waitlist/", apis.WaitlistListApi.as_view(), name="waitlist"),
    path("waitlist/<uuid:waitlist_entry_id>/", apis.WaitlistDetailApi.as_view(), name="waitlist-detail"),
    path("waitlist/<uuid:waitlist_entry_id>/claim/", apis.WaitlistClaimApi.as_view(), name="waitlist-claim"),
]
