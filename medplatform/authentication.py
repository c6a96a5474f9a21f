"""Bearer authentication for /api/, answering in the user's own language when the request names none."""

from django.conf import settings
from django.utils import translation
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's JWT bearer authentication. DRF authenticates inside the view, after the locale
    middleware chose a language from Accept-Language (or the default): here the user is known,
    so without that header the user's stored `language` is activated for the rest of the request,
    error bodies included."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and not request.META.get("HTTP_ACCEPT_LANGUAGE"):
            language = getattr(result[0], "language", None)
            if language in dict(settings.LANGUAGES):
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return result


class JWTScheme(SimpleJWTScheme):
    """The same OpenAPI security scheme as simplejwt's own class."""

    target_class = "medplatform.authentication.JWTAuthentication"
