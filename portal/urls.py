from django.contrib.auth import views as auth_views
from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.agenda, name="agenda"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("second-factor/", views.second_factor_verify, name="second-factor"),
    path("second-factor/enrol/", views.second_factor_enrol, name="second-factor-enrol"),
    path("logout/", auth_views.LogoutView.as_view(next_page="portal:login"), name="logout"),
    path("password-set/<uidb64>/<token>/", views.PasswordSetView.as_view(), name="password-set"),
    path("appointments/<uuid:appointment_id>/", views.appointment_detail, name="appointment"),
    path("appointments/<uuid:appointment_id>/<str:action>/", views.appointment_action, name="appointment-action"),
    path("reviews/", views.reviews, name="reviews"),
    path("reviews/<uuid:review_id>/reply/", views.review_reply, name="review-reply"),
    path("appeals/", views.appeals, name="appeals"),
    path("appeals/policy/<uuid:clinic_id>/", views.no_show_policy, name="no-show-policy"),
    path("appeals/<uuid:appeal_id>/<str:decision>/", views.appeal_decide, name="appeal-decide"),
    path("unclear-replies/", views.unclear_replies, name="unclear-replies"),
    path("doctors/", views.doctors, name="doctors"),
    path("doctors/<uuid:doctor_id>/schedule/", views.schedule, name="schedule"),
    path("doctors/<uuid:doctor_id>/time-off/", views.time_off, name="time-off"),
    path("shared-profiles/", views.shared_profiles, name="shared-profiles"),
    path("patients/<uuid:patient_id>/health-profile/", views.patient_health_profile, name="health-profile"),
]
