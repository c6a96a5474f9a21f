from django.urls import path

from accounts import apis, credential_apis, dependant_apis, exemption_apis

urlpatterns = [
    path("auth/register/", apis.RegisterApi.as_view(), name="auth-register"),
    path("auth/token/", apis.TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/refresh/", apis.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout/", apis.LogoutApi.as_view(), name="auth-logout"),
    path("me/", apis.MeApi.as_view(), name="me"),
    path("me/verify/", credential_apis.VerifyStartApi.as_view(), name="me-verify"),
    path("me/verify/confirm/", credential_apis.VerifyConfirmApi.as_view(), name="me-verify-confirm"),
    path("me/password/", credential_apis.PasswordChangeApi.as_view(), name="me-password"),
    path("auth/password-reset/", credential_apis.PasswordResetApi.as_view(), name="auth-password-reset"),
    path(
        "auth/password-reset/confirm/",
        credential_apis.PasswordResetConfirmApi.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("me/dependants/", dependant_apis.DependantListApi.as_view(), name="me-dependants"),
    path(
        "me/dependants/<uuid:dependant_id>/handover/",
        dependant_apis.DependantHandoverApi.as_view(),
        name="me-dependant-handover",
    ),
    path("me/invitations/", apis.MyInvitationListApi.as_view(), name="me-invitations"),
    path(
        "me/invitations/<uuid:invitation_id>/accept/",
        apis.MyInvitationAcceptApi.as_view(),
        name="me-invitation-accept",
    ),
    path(
        "me/invitations/<uuid:invitation_id>/decline/",
        apis.MyInvitationDeclineApi.as_view(),
        name="me-invitation-decline",
    ),
    path("auth/claim/", dependant_apis.ClaimApi.as_view(), name="auth-claim"),
    path("specialties/", apis.SpecialtyListApi.as_view(), name="specialty-list"),
    path("clinics/", apis.ClinicListApi.as_view(), name="clinic-list"),
    path("clinics/<uuid:clinic_id>/", apis.ClinicDetailApi.as_view(), name="clinic-detail"),
    path("clinics/<uuid:clinic_id>/staff/", apis.ClinicStaffApi.as_view(), name="clinic-staff"),
    path("clinics/<uuid:clinic_id>/doctors/", apis.ClinicDoctorApi.as_view(), name="clinic-doctors"),
    path(
        "clinics/<uuid:clinic_id>/exemptions/",
        exemption_apis.ClinicExemptionListApi.as_view(),
        name="clinic-exemptions",
    ),
    path(
        "clinics/<uuid:clinic_id>/exemptions/<uuid:exemption_id>/",
        exemption_apis.ClinicExemptionDetailApi.as_view(),
        name="clinic-exemption-detail",
    ),
]
