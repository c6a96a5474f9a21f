from django.urls import path

from health_profiles import apis

urlpatterns = [
    path("health-profile/", apis.HealthProfileApi.as_view(), name="health-profile"),
    path("health-profile/entries/", apis.EntryListApi.as_view(), name="health-entry-list"),
    path("health-profile/entries/<uuid:entry_id>/", apis.EntryDetailApi.as_view(), name="health-entry-detail"),
    path("health-profile/access-log/", apis.AccessLogApi.as_view(), name="health-profile-access-log"),
    path("health-profile/export/", apis.ExportApi.as_view(), name="health-profile-export"),
    path("doctor/shared-profiles/", apis.SharedProfileListApi.as_view(), name="doctor-shared-profiles"),
    path(
        "patients/<uuid:patient_id>/health-profile/",
        apis.PatientHealthProfileApi.as_view(),
        name="patient-health-profile",
    ),
]
