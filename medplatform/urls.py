from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from medplatform import health
from portal import views as portal_views

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("privacy.urls")),
    path("", include("appointments.urls")),
    path("", include("health_profiles.urls")),
    path("", include("reviews.urls")),
    path("", include("standing.urls")),
    path("", include("notifications.urls")),
    path("", include("waitlist.urls")),
]

urlpatterns = [
    path("", portal_views.landing, name="landing"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
    path("portal/", include("portal.urls")),
]

# JSON under /api/, HTML pages elsewhere (the portal, the admin, the landing page).
handler400 = "medplatform.error_pages.page_400"
handler403 = "medplatform.error_pages.page_403"
handler404 = "medplatform.error_pages.page_404"
handler500 = "medplatform.error_pages.page_500"
