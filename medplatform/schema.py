"""The OpenAPI schema as the single truth about the API (drf-spectacular).

What drf-spectacular cannot see in our plain APIViews is added here, from one table per concern:
a summary and a tag for every operation, and every error an operation can answer with, each
in the API.md error shape with the `code` values it can carry. The errors every operation of a
kind gives (400 for input, 401 where a bearer token is read, 403 where a permission class
narrows the users, 404 where an id is in the path or a page is asked for, 429 where a throttle
applies) are derived from the view itself; the domain errors of each operation are listed in
DOMAIN_ERRORS. tests/test_schema.py checks that both tables and the URLconf name the same
operations.
"""

import re
from collections import defaultdict

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated

# (path pattern, tag): the first match names the operation's area.
TAG_RULES: list[tuple[str, str]] = [
    (r"^/api/v1/auth/", "accounts"),
    (r"^/api/v1/me/notification-preferences/", "notifications"),
    (r"^/api/v1/me/reviews/", "reviews"),
    (r"^/api/v1/me/erase/", "privacy"),
    (r"^/api/v1/(me/standing|strikes|appeals)/", "no-show policy"),
    (r"^/api/v1/me/", "accounts"),
    (r"^/api/v1/doctors/\{[^}]+\}/(working-hours|breaks|time-off)/", "schedules"),
    (r"^/api/v1/doctors/\{[^}]+\}/reviews/", "reviews"),
    (r"^/api/v1/(specialties|clinics|doctors)/", "clinics and doctors"),
    (r"^/api/v1/(consent-texts|consents)/", "consent"),
    (r"^/api/v1/appointments/\{[^}]+\}/review/", "reviews"),
    (r"^/api/v1/appointments/", "appointments"),
    (r"^/api/v1/waitlist/", "waitlist"),
    (r"^/api/v1/(health-profile|doctor/shared-profiles|patients)/", "health profile"),
    (r"^/api/v1/reviews/", "reviews"),
    (r"^/api/v1/notifications/", "notifications"),
    (r"^/api/v1/privacy/", "privacy"),
]

SUMMARIES: dict[str, str] = {
    "GET /api/v1/appointments/": "List my appointments (patient, doctor) or my clinic's (staff)",
    "POST /api/v1/appointments/": "Book an appointment",
    "GET /api/v1/appointments/{appointment_id}/": "Show one appointment with its visit reason and history",
    "PATCH /api/v1/appointments/{appointment_id}/": "Change an appointment's visit reason or exam type",
    "POST /api/v1/appointments/{appointment_id}/cancel/": "Cancel an appointment",
    "POST /api/v1/appointments/{appointment_id}/complete/": "Mark an appointment completed",
    "GET /api/v1/appointments/{appointment_id}/ics/": "Download an appointment as an iCalendar file",
    "POST /api/v1/appointments/{appointment_id}/no-show/": "Mark an appointment as a no-show",
    "POST /api/v1/appointments/{appointment_id}/reschedule/": "Move an appointment to another free slot",
    "POST /api/v1/appointments/{appointment_id}/review/": "Review a completed appointment",
    "POST /api/v1/auth/logout/": "Log out: revoke a refresh token",
    "POST /api/v1/auth/claim/": "Claim a dependant's account with the handover invitation",
    "GET /api/v1/me/dependants/": "List the family members in my care",
    "GET /api/v1/me/invitations/": "List my invitations to work at a clinic",
    "POST /api/v1/me/invitations/{invitation_id}/accept/": "Accept an invitation to work at a clinic",
    "POST /api/v1/me/invitations/{invitation_id}/decline/": "Decline an invitation to work at a clinic",
    "POST /api/v1/me/dependants/": "Add a family member in my care",
    "POST /api/v1/me/dependants/{dependant_id}/handover/": "Invite an adult dependant to take over their account",
    "GET /api/v1/me/devices/": "List my devices for push notifications",
    "POST /api/v1/me/devices/": "Register a device for push notifications",
    "DELETE /api/v1/me/devices/{device_id}/": "Remove one of my push devices",
    "POST /api/v1/auth/password-reset/": "Ask for a password-reset link",
    "POST /api/v1/auth/password-reset/confirm/": "Set a new password with a reset link's uid and token",
    "POST /api/v1/auth/register/": "Register as a patient",
    "POST /api/v1/auth/token/": "Log in: get an access and a refresh token",
    "POST /api/v1/auth/token/refresh/": "Rotate a refresh token",
    "GET /api/v1/clinics/": "List clinics",
    "POST /api/v1/clinics/": "Create a clinic (platform admin)",
    "GET /api/v1/clinics/{clinic_id}/": "Show a clinic",
    "PATCH /api/v1/clinics/{clinic_id}/": "Change a clinic's confirmation rule (that clinic's admin)",
    "POST /api/v1/clinics/{clinic_id}/doctors/": "Add a doctor to a clinic, or invite one who works elsewhere",
    "POST /api/v1/clinics/{clinic_id}/staff/": "Add a staff member to a clinic, or invite an existing one",
    "GET /api/v1/clinics/{clinic_id}/exemptions/": "Patients the clinic exempts from release and no-show strikes",
    "POST /api/v1/clinics/{clinic_id}/exemptions/": "Exempt a patient of the clinic from release and strikes",
    "DELETE /api/v1/clinics/{clinic_id}/exemptions/{exemption_id}/": "End a patient's exemption at the clinic",
    "GET /api/v1/consent-texts/": "Current consent notice texts",
    "GET /api/v1/consents/": "List my consents",
    "POST /api/v1/consents/": "Give a consent",
    "POST /api/v1/consents/{consent_id}/withdraw/": "Withdraw a consent",
    "GET /api/v1/doctor/shared-profiles/": "Patients sharing their health profile with me (doctor)",
    "GET /api/v1/doctors/": "Search doctors",
    "GET /api/v1/doctors/{doctor_id}/": "Show a doctor's profile",
    "GET /api/v1/doctors/{doctor_id}/breaks/": "List a doctor's breaks",
    "POST /api/v1/doctors/{doctor_id}/breaks/": "Add a weekly break",
    "DELETE /api/v1/doctors/{doctor_id}/breaks/{break_id}/": "Remove a break",
    "GET /api/v1/doctors/{doctor_id}/reviews/": "A doctor's published reviews",
    "GET /api/v1/doctors/{doctor_id}/slots/": "A doctor's free slots (at most 31 days per call)",
    "GET /api/v1/doctors/{doctor_id}/time-off/": "List a doctor's time off",
    "POST /api/v1/doctors/{doctor_id}/time-off/": "Add time off",
    "DELETE /api/v1/doctors/{doctor_id}/time-off/{time_off_id}/": "Remove time off",
    "GET /api/v1/doctors/{doctor_id}/working-hours/": "List a doctor's working hours",
    "POST /api/v1/doctors/{doctor_id}/working-hours/": "Add working hours",
    "GET /api/v1/doctors/{doctor_id}/working-hours/{hours_id}/": "Show working hours",
    "PATCH /api/v1/doctors/{doctor_id}/working-hours/{hours_id}/": "Change working hours",
    "DELETE /api/v1/doctors/{doctor_id}/working-hours/{hours_id}/": "Remove working hours",
    "GET /api/v1/health-profile/": "My health profile, grouped by category",
    "GET /api/v1/health-profile/access-log/": "Who viewed or received my health data",
    "GET /api/v1/health-profile/entries/": "List my health entries",
    "POST /api/v1/health-profile/entries/": "Add a health entry",
    "GET /api/v1/health-profile/entries/{entry_id}/": "Show a health entry",
    "PATCH /api/v1/health-profile/entries/{entry_id}/": "Change a health entry",
    "DELETE /api/v1/health-profile/entries/{entry_id}/": "Delete a health entry",
    "GET /api/v1/health-profile/export/": "Export everything about me (JSON or a FHIR R4 Bundle)",
    "GET /api/v1/me/": "My account",
    "PATCH /api/v1/me/": "Change my account",
    "POST /api/v1/me/erase/": "Erase my account",
    "GET /api/v1/me/notification-preferences/": "My notification channels",
    "PATCH /api/v1/me/notification-preferences/": "Turn notification channels on or off",
    "POST /api/v1/me/password/": "Change my password",
    "GET /api/v1/me/reviews/": "My reviews",
    "POST /api/v1/me/verify/": "Send a verification code to my e-mail or phone",
    "POST /api/v1/me/verify/confirm/": "Confirm my e-mail or phone with the code",
    "GET /api/v1/notifications/": "My notifications",
    "POST /api/v1/notifications/twilio/status/": "Twilio message status callback",
    "POST /api/v1/notifications/twilio/inbound/": "Twilio inbound message: a reply confirming or cancelling a visit",
    "POST /api/v1/appointments/{appointment_id}/confirm/": "Confirm a visit the clinic wants confirmed the day before",
    "GET /api/v1/clinics/{clinic_id}/unclear-replies/": "Unclear replies to confirmation requests, to call back",
    "GET /api/v1/patients/{patient_id}/health-profile/": "A patient's shared health profile (doctor with a share)",
    "GET /api/v1/privacy/requests/": "My data-subject requests",
    "POST /api/v1/privacy/requests/": "Make a data-subject request",
    "GET /api/v1/privacy/retention/": "The retention table",
    "GET /api/v1/privacy/summary/": "What is processed about me, why, and to whom it went",
    "POST /api/v1/reviews/{review_id}/reply/": "Reply to a review of me (doctor)",
    "POST /api/v1/reviews/{review_id}/report/": "Report a review to moderation",
    "GET /api/v1/specialties/": "List specialties",
    "GET /api/v1/me/standing/": "My no-show strikes per clinic and any booking block (or a dependant's)",
    "POST /api/v1/strikes/{strike_id}/appeal/": "Appeal a no-show strike (once)",
    "GET /api/v1/appeals/": "Appeals of no-show strikes at my clinics (clinic staff)",
    "POST /api/v1/appeals/{appeal_id}/accept/": "Accept an appeal: the strike stops counting (clinic staff)",
    "POST /api/v1/appeals/{appeal_id}/refuse/": "Refuse an appeal (clinic staff)",
    "GET /api/v1/waitlist/": "List my waitlist entries (and my dependants')",
    "POST /api/v1/waitlist/": "Join a doctor's waitlist for a range of days",
    "GET /api/v1/waitlist/{waitlist_entry_id}/": "Show a waitlist entry and the slot held for it",
    "DELETE /api/v1/waitlist/{waitlist_entry_id}/": "Leave a waitlist (a held slot passes to the next in line)",
    "POST /api/v1/waitlist/{waitlist_entry_id}/claim/": "Book the slot held for a waitlist entry",
}

# Errors the view's own shape does not reveal (services' domain errors), per operation.
DOMAIN_ERRORS: dict[str, dict[int, list[str]]] = {
    "POST /api/v1/waitlist/": {403: ["consent_required"], 404: ["not_found"]},
    "POST /api/v1/waitlist/{waitlist_entry_id}/claim/": {
        403: ["consent_required", "booking_blocked"],
        409: ["slot_unavailable", "booking_limit_reached"],
    },
    "POST /api/v1/me/dependants/{dependant_id}/handover/": {409: ["invalid_transition"]},
    "POST /api/v1/appointments/": {
        403: ["consent_required", "booking_blocked"],
        404: ["not_found"],
        409: ["slot_unavailable", "booking_limit_reached"],
    },
    "PATCH /api/v1/appointments/{appointment_id}/": {
        403: ["permission_denied", "consent_required"],
        409: ["invalid_transition"],
    },
    "POST /api/v1/appointments/{appointment_id}/cancel/": {
        403: ["permission_denied"],
        409: ["too_late_to_cancel", "invalid_transition"],
    },
    "POST /api/v1/appointments/{appointment_id}/complete/": {403: ["permission_denied"], 409: ["invalid_transition"]},
    "POST /api/v1/appointments/{appointment_id}/no-show/": {403: ["permission_denied"], 409: ["invalid_transition"]},
    "POST /api/v1/appointments/{appointment_id}/reschedule/": {
        403: ["permission_denied", "consent_required"],
        409: ["slot_unavailable", "booking_limit_reached", "too_late_to_cancel", "invalid_transition"],
    },
    "GET /api/v1/appointments/{appointment_id}/ics/": {403: ["permission_denied"]},
    "POST /api/v1/appointments/{appointment_id}/review/": {403: ["consent_required"], 409: ["review_not_allowed"]},
    "POST /api/v1/auth/token/": {401: ["invalid_credentials", "second_factor_required"]},
    "POST /api/v1/auth/token/refresh/": {401: ["not_authenticated"]},
    "POST /api/v1/clinics/{clinic_id}/doctors/": {403: ["permission_denied"]},
    "POST /api/v1/clinics/{clinic_id}/staff/": {403: ["permission_denied"]},
    "PATCH /api/v1/clinics/{clinic_id}/": {403: ["permission_denied"]},
    "POST /api/v1/doctors/{doctor_id}/time-off/": {403: ["permission_denied"], 409: ["slot_unavailable"]},
    # A doctor's schedule: that doctor and their clinics' staff only (_require_schedule_access).
    **{
        f"{method} /api/v1/doctors/{{doctor_id}}/{part}": {403: ["permission_denied"]}
        for method, part in [
            ("GET", "working-hours/"),
            ("POST", "working-hours/"),
            ("GET", "working-hours/{hours_id}/"),
            ("PATCH", "working-hours/{hours_id}/"),
            ("DELETE", "working-hours/{hours_id}/"),
            ("GET", "breaks/"),
            ("POST", "breaks/"),
            ("DELETE", "breaks/{break_id}/"),
            ("GET", "time-off/"),
            ("DELETE", "time-off/{time_off_id}/"),
        ]
    },
    "POST /api/v1/health-profile/entries/": {403: ["consent_required"], 404: ["not_found"]},
    "PATCH /api/v1/health-profile/entries/{entry_id}/": {403: ["consent_required"]},
    "POST /api/v1/consents/": {404: ["not_found"]},
    "POST /api/v1/reviews/{review_id}/reply/": {403: ["permission_denied"], 409: ["review_not_allowed"]},
    "POST /api/v1/notifications/twilio/status/": {403: ["permission_denied"]},
    "POST /api/v1/strikes/{strike_id}/appeal/": {409: ["invalid_transition"]},
    "POST /api/v1/appeals/{appeal_id}/accept/": {409: ["invalid_transition"]},
    "POST /api/v1/appeals/{appeal_id}/refuse/": {409: ["invalid_transition"]},
    "POST /api/v1/notifications/twilio/inbound/": {403: ["permission_denied"]},
    "POST /api/v1/appointments/{appointment_id}/confirm/": {403: ["permission_denied"], 409: ["invalid_transition"]},
}

ERROR_DESCRIPTIONS = {
    400: "The input is not valid; `fields` names each field with its messages.",
    401: "Not authenticated (no or an invalid bearer token), or the login was refused.",
    403: "Authenticated, but not allowed; `consent_required` names the missing consent in `purpose`, "
    "`booking_blocked` (the no-show policy) says in `until` when booking at that clinic opens again.",
    404: "No such object, or not one this user may see (existence is not revealed); or no such page.",
    409: "The request conflicts with the current state of the booking.",
    429: "Too many requests; `Retry-After` says when to try again.",
}

_BROAD_PERMISSIONS = (AllowAny, IsAuthenticated)


def operation_key(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


def error_schema(codes: list[str]) -> dict:
    """The API.md error body with the `code` values one response can carry."""
    properties: dict = {
        "code": {"type": "string", "enum": codes, "description": "Stable, machine-readable."},
        "detail": {"type": "string", "description": "For people, in the user's language."},
    }
    if "validation_error" in codes:
        properties["fields"] = {
            "type": "object",
            "description": "Per field, its messages (a nested field's errors nest the same way).",
            "additionalProperties": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]},
        }
    if "consent_required" in codes:
        # The enum component named in ENUM_NAME_OVERRIDES (settings), as the consents use it.
        properties["purpose"] = {
            "allOf": [{"$ref": "#/components/schemas/ConsentPurposeEnum"}],
            "description": "The missing consent.",
        }
    if "booking_blocked" in codes:
        properties["until"] = {"type": "string", "format": "date-time", "description": "When booking opens again."}
    return {"type": "object", "required": ["code", "detail"], "properties": properties}


def error_component_name(codes: list[str]) -> str:
    return "Error" + "".join(part.capitalize() for code in codes for part in code.split("_"))


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, plus our component names, tags, summaries and errors."""

    def get_serializer_name(self, serializer, direction):
        # Views keep their input serializer as a nested `Input` class; name the component after
        # the whole qualified name (`RegisterApiInput`), so two views' `Input` never collide.
        qualname = type(force_instance(serializer)).__qualname__
        return qualname.replace(".", "") if "." in qualname else super().get_serializer_name(serializer, direction)

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        serializer = force_instance(serializer)
        generic = type(serializer).to_representation is serializers.Serializer.to_representation
        if direction == "response" and isinstance(serializer, serializers.ModelSerializer) and generic:
            # A model instance has every attribute, so DRF's own to_representation sends every
            # readable field of a model serializer, blank or not: say so, or generated clients type
            # them "maybe absent". (One with its own to_representation, like EntryOutput, says itself.)
            sent = {name for name in schema.get("properties", {}) if not serializer.fields[name].write_only}
            if sent - set(schema.get("required", [])):
                schema["required"] = sorted(sent | set(schema.get("required", [])))
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # A wall-clock time of day (working hours, breaks) has no UTC offset, so it is not an
        # OpenAPI/RFC 3339 `time` (which requires one): say what is sent, HH:MM[:SS].
        if isinstance(field, serializers.TimeField):
            schema = {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$"}
            return {**schema, "readOnly": True} if field.read_only else schema
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def get_auth(self) -> list[dict]:
        # `[{}]` alone means "no authentication"; generated clients (openapi-python-client) read
        # any security list as "send a token", so an operation nobody authenticates to lists none.
        auths = super().get_auth()
        return [] if auths == [{}] else auths

    def _key(self) -> str:
        return operation_key(self.method, self.path)

    def get_tags(self) -> list[str]:
        for pattern, tag in TAG_RULES:
            if re.match(pattern, self.path):
                return [tag]
        return super().get_tags()

    def get_summary(self) -> str | None:
        return SUMMARIES.get(self._key()) or super().get_summary()

    def error_codes(self) -> dict[int, list[str]]:
        """Every error status this operation can answer with, and its codes."""
        codes: dict[int, list[str]] = defaultdict(list)

        def add(status: int, code: str) -> None:
            if code not in codes[status]:
                codes[status].append(code)

        has_body = self.method in ("POST", "PUT", "PATCH") and self._get_request_body()
        has_query = any(parameter.get("in") == "query" for parameter in self._get_parameters())
        if has_body or has_query:
            add(400, "validation_error")
        if self.view.get_authenticators():
            add(401, "not_authenticated")
        if any(not isinstance(permission, _BROAD_PERMISSIONS) for permission in self.view.get_permissions()):
            add(403, "permission_denied")
        parameters = self._get_parameters()
        # An id in the path, a page past the end, or a guardian's `?patient=` naming no dependant.
        acts_for = any(parameter.get("name") == "patient" for parameter in parameters)
        if "{" in self.path or acts_for or getattr(self.view, "pagination_class", None) and self._is_list_view():
            add(404, "not_found")
        if self.view.get_throttles():
            add(429, "throttled")
        for status, domain_codes in DOMAIN_ERRORS.get(self._key(), {}).items():
            for code in domain_codes:
                add(status, code)
        return dict(sorted(codes.items()))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status, codes in self.error_codes().items():
            name = error_component_name(codes)
            component = ResolvedComponent(
                name=name, type=ResolvedComponent.SCHEMA, object=name, schema=error_schema(codes)
            )
            self.registry.register_on_missing(component)
            listed = ", ".join(f"`{code}`" for code in codes)
            responses[str(status)] = {
                "description": f"{ERROR_DESCRIPTIONS[status]} Codes: {listed}.",
                "content": {"application/json": {"schema": component.ref}},
            }
        return responses
