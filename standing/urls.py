from django.urls import path

from standing import apis

urlpatterns = [
    path("me/standing/", apis.StandingApi.as_view(), name="standing"),
    path("strikes/<uuid:strike_id>/appeal/", apis.StrikeAppealApi.as_view(), name="strike-appeal"),
    path("appeals/", apis.AppealListApi.as_view(), name="appeal-list"),
    path("appeals/<uuid:appeal_id>/accept/", apis.AppealAcceptApi.as_view(), name="appeal-accept"),
    path("appeals/<uuid:appeal_id>/refuse/", apis.AppealRefuseApi.as_view(), name="appeal-refuse"),
]
