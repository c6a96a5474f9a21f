"""Conformance: every page or endpoint that shows a visit reason or health-profile content to
someone other than the patient writes exactly one audit entry, with the actor and the categories,
and the patient's access log shows it.

Driven by the URL registry, not by a list of known views: every GET route of the API and the
portal is requested by the doctor, the receptionist and the clinic admin of a patient who has a
booked visit (reason and exam type set) and a profile shared with that doctor. A response that
holds any of those values must have written one audit entry; one that holds none must write none.
A new read path is covered the day it is added.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import ClinicMembership
from appointments.demo import create_demo_schedule
from appointments.models import Appointment, Break, TimeOff, UnclearReply, WorkingHours
from appointments.services import appointment_mark_no_show
from privacy.models import AuditEntry
from reviews.models import Review
from standing.services import appeal_create
from tests.appointments.conftest import at, book, grant_booking_consent, working_day
from tests.conftest import client_for
from tests.factories import clinic_member
from tests.health_profiles.scenario import ALL_CATEGORIES, ENTRY_VALUES, add_entry, grant_storage, share_with
from tests.reviews.factories import past_appointment
from tests.second_factor import verified_client
from waitlist.models import WaitlistEntry

VISIT_REASON = "Göğüs-ağrısı-QQV"
EXAM_TYPE = "Efor-testi-QQV"
APPEAL_REASON = "Hastanede-yattım-QQV"
SECRETS = [
    VISIT_REASON,
    EXAM_TYPE,
    APPEAL_REASON,
    *(v for values in ENTRY_VALUES.values() for v in values.values() if "ZQX" in str(v)),
]
# Routes that are not reads of a resource: login, logout, password-set links and POST-only actions.
NOT_READS = {
    "portal:login",
    "portal:logout",
    "portal:password-set",
    "portal:appointment-action",
    "portal:appeal-decide",
    "portal:no-show-policy",
}
SKIPPED_PREFIXES = ("admin/", "api/schema/", "api/docs/")


def get_routes(patterns=None, prefix="", namespace=""):
    """(route, name) for every URL pattern, walking included URLconfs."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner_namespace = f"{pattern.namespace}:" if pattern.namespace else namespace
            yield from get_routes(pattern.url_patterns, prefix + str(pattern.pattern), inner_namespace)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), f"{namespace}{pattern.name}"


@pytest.fixture
def world(patient_ayse, doctor_x, clinic_x):
    create_demo_schedule(doctor_x, clinic_x)
    grant_booking_consent(patient_ayse)
    appointment = book(patient_ayse, doctor_x, at(working_day(), 10), visit_reason=VISIT_REASON, exam_type=EXAM_TYPE)
    grant_storage(patient_ayse)
    entries = [add_entry(patient_ayse, category) for category in ALL_CATEGORIES]
    share = share_with(patient_ayse, doctor_x, categories=ALL_CATEGORIES)
    visited = past_appointment(patient=patient_ayse, doctor=doctor_x)
    review = Review.objects.create(appointment=visited, patient=patient_ayse, doctor=doctor_x, rating=5, comment="iyi")
    missed = past_appointment(patient=patient_ayse, doctor=doctor_x, status=Appointment.Status.BOOKED)
    appointment_mark_no_show(appointment=missed, actor=doctor_x.user)
    appeal = appeal_create(actor=patient_ayse, strike_id=missed.no_show_strike.id, reason=APPEAL_REASON)
    # an unclear reply to a confirmation request, flagged to the clinic (listed without the reason)
    UnclearReply.objects.create(appointment=appointment, clinic=clinic_x, sender=patient_ayse, channel="sms")
    time_off = TimeOff.objects.create(
        doctor=doctor_x, start=at(working_day(days_ahead=30), 9), end=at(working_day(days_ahead=30), 12)
    )
    return {
        "appointment_id": appointment.id,
        "patient_id": patient_ayse.id,
        "doctor_id": doctor_x.id,
        "clinic_id": clinic_x.id,
        "entry_id": entries[0].id,
        "hours_id": WorkingHours.objects.filter(doctor=doctor_x).first().id,
        "break_id": Break.objects.filter(doctor=doctor_x).first().id,
        "time_off_id": time_off.id,
        "consent_id": share.id,
        "dependant_id": patient_ayse.id,  # POST-only routes: their GET must show nothing either
        "invitation_id": patient_ayse.id,
        "device_id": patient_ayse.id,  # a DELETE-only route: its GET must show nothing either
        "review_id": review.id,
        "exemption_id": patient_ayse.id,  # a DELETE-only route: its GET must show nothing either
        "strike_id": appeal.strike_id,  # POST-only routes: their GET must show nothing either
        "appeal_id": appeal.id,
        "waitlist_entry_id": WaitlistEntry.objects.create(
            patient=patient_ayse, doctor=doctor_x, first_day=working_day(), last_day=working_day()
        ).id,
    }


def fill(route: str, values: dict) -> str | None:
    """The route with its parameters filled from `values`, or None if one is unknown."""
    missing = []

    def value(match):
        name = match.group(1)
        if name not in values:
            missing.append(name)
            return ""
        return str(values[name])

    url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, route)
    return None if missing else url


def viewers(doctor, receptionist, admin):
    for role, user in (("doctor", doctor), ("receptionist", receptionist), ("clinic_admin", admin)):
        yield role, user, client_for(user), verified_client(user)


@pytest.mark.django_db
def test_every_read_that_shows_a_visit_reason_or_profile_content_to_someone_else_is_audited_once(
    world, patient_ayse, doctor_x, clinic_x, as_user
):
    receptionist = clinic_member(clinic_x, ClinicMembership.Role.RECEPTIONIST, email="r@example.test")
    admin = clinic_member(clinic_x, ClinicMembership.Role.ADMIN, email="a@example.test")
    routes = [
        (route, name)
        for route, name in get_routes()
        if name not in NOT_READS and not route.startswith(SKIPPED_PREFIXES)
    ]
    unfilled = sorted(name for route, name in routes if fill(route, world) is None)
    assert unfilled == [], f"give these routes' parameters a value in the world fixture: {unfilled}"

    showing = []
    for role, user, api, portal in viewers(doctor_x.user, receptionist, admin):
        for route, name in routes:
            url = fill(route, world)
            client = api if route.startswith("api/") else portal
            before = set(AuditEntry.objects.values_list("id", flat=True))

            response = client.get(url)

            body = response.content.decode("utf-8", errors="replace")
            shown = [secret for secret in SECRETS if secret in body or secret.encode("unicode_escape").decode() in body]
            written = AuditEntry.objects.exclude(id__in=before)
            if shown:
                showing.append((role, name))
                [entry] = written  # exactly one
                assert (entry.actor_id, entry.patient_id) == (user.id, patient_ayse.id), (role, name)
                assert entry.categories, (role, name)
            else:
                assert not written.exists(), (role, name, list(written.values_list("action", flat=True)))

    # the crawl really reached the reads it must cover
    assert {
        ("doctor", "appointment-detail"),
        ("receptionist", "appointment-detail"),
        ("doctor", "patient-health-profile"),
        ("doctor", "portal:appointment"),
        ("receptionist", "portal:appointment"),
        ("doctor", "portal:health-profile"),
        ("receptionist", "appeal-list"),
        ("clinic_admin", "appeal-list"),
        ("receptionist", "portal:appeals"),
    } <= set(showing)
    # staff never see health-profile content
    assert not {name for role, name in showing if role != "doctor"} & {
        "patient-health-profile",
        "portal:health-profile",
    }
    # and the patient's access log shows every one of those reads
    log = as_user(patient_ayse).get("/api/v1/health-profile/access-log/?page_size=100").json()["results"]
    reads = [
        row for row in log if row["action"] in {"appointment_viewed", "health_profile_read", "no_show_appeal_viewed"}
    ]
    assert len(reads) == len(showing)
