"""Bearer authentication for /api/, answering in the user's own language when the request names none."""

import uuid

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt import settings as jwt_settings_module
from rest_framework_simplejwt.exceptions import InvalidToken

from accounts import auth_state
from accounts.models import User


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

    def get_user(self, validated_token):
        """The token's user from its state in Redis (accounts.auth_state), with every other field
        deferred: no query. Without a settled state, the row as simplejwt reads it (one query),
        which then seeds the state unless a write to the user came in between."""
        try:
            user_id = validated_token[jwt_settings_module.api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        # The state holds no password hash: a deployment that revokes tokens on a password change
        # (simplejwt's CHECK_REVOKE_TOKEN) compares the token with the row on every request.
        state = None if jwt_settings_module.api_settings.CHECK_REVOKE_TOKEN else auth_state.cached_state(user_id)
        if state is None:
            seed = auth_state.seed_begin(user_id)
            user = super().get_user(validated_token)
            if seed is not None:
                auth_state.seed_end(user_id, seed, auth_state.state_of(user))
            return user
        if not state["is_active"]:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        values = {**state, "id": uuid.UUID(state["id"])}
        # from_db takes the loaded values in the model's field order, whatever order names them.
        fields = [field.attname for field in User._meta.concrete_fields if field.attname in values]
        user = User.from_db("default", fields, [values[name] for name in fields])
        user._password_usable = state["password_usable"]
        return user


class JWTScheme(SimpleJWTScheme):
    """The same OpenAPI security scheme as simplejwt's own class."""

    target_class = "medplatform.authentication.JWTAuthentication"
