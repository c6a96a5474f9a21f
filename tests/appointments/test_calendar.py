"""The .ics of an appointment, read back with two independent parsers (icalendar and vobject)."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import vobject
from django.conf import settings

from appointments.models import VisitType
from appointments.services import appointment_cancel, appointment_reschedule
from tests.appointments.conftest import at, book

pytestmark = pytest.mark.django_db


def ics_of(client, appointment) -> str:
    response = client.get(f"/api/v1/appointments/{appointment.id}/ics/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return response.content.decode()


def both_parsers(body: str):
    """The VEVENT as icalendar reads it and as vobject reads it."""
    (event,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    return event, vobject.readOne(body).vevent


def test_a_rescheduled_then_cancelled_visit_has_sequence_2_and_status_cancelled(as_user, ayse, schedule_x, day):
    appointment = book(ayse, schedule_x, at(day, 10), visit_type=VisitType.IN_PERSON)
    client = as_user(ayse)
    first_uid = str(icalendar.Calendar.from_ical(ics_of(client, appointment)).walk("VEVENT")[0]["uid"])
    appointment = appointment_reschedule(appointment=appointment, actor=ayse, start=at(day, 14))
    appointment_cancel(appointment=appointment, actor=ayse)
    before = datetime.now(UTC).replace(microsecond=0)

    body = ics_of(client, appointment)

    calendar = icalendar.Calendar.from_ical(body)
    assert (str(calendar["method"]), str(calendar["version"])) == ("PUBLISH", "2.0")
    event, vevent = both_parsers(body)
    assert str(event["uid"]) == vevent.uid.value == first_uid == f"{appointment.id}@medplatform"
    assert int(event["sequence"]) == int(vevent.sequence.value) == 2
    assert str(event["status"]) == vevent.status.value == "CANCELLED"
    assert event.decoded("dtstart") == vevent.dtstart.value == at(day, 14).astimezone(UTC)
    assert str(event["organizer"]) == vevent.organizer.value == f"mailto:{settings.DEFAULT_FROM_EMAIL}"
    assert vevent.organizer.params["CN"] == [appointment.clinic.name]
    # DTSTAMP is when the file was made, not when the row last changed.
    assert event.decoded("dtstamp") >= before > appointment.updated_at.replace(microsecond=0) - timedelta(seconds=1)
    assert vevent.dtstamp.value == event.decoded("dtstamp")


def test_the_sequence_grows_with_each_change_and_the_uid_stays(as_user, ayse, schedule_x, day):
    appointment = book(ayse, schedule_x, at(day, 10))
    client = as_user(ayse)
    sequences = [int(both_parsers(ics_of(client, appointment))[1].sequence.value)]
    for hour in (11, 15):
        appointment = appointment_reschedule(appointment=appointment, actor=ayse, start=at(day, hour))
        sequences.append(int(both_parsers(ics_of(client, appointment))[1].sequence.value))

    assert sequences == [0, 1, 2]


def test_an_online_visit_carries_its_link_until_it_is_cancelled(as_user, ayse, schedule_x, day):
    appointment = book(ayse, schedule_x, at(day, 11), visit_type=VisitType.ONLINE)
    client = as_user(ayse)

    event, vevent = both_parsers(ics_of(client, appointment))

    assert str(event["location"]) == str(event["url"]) == appointment.meeting_url
    assert vevent.location.value == vevent.url.value == appointment.meeting_url
    assert appointment.clinic.address not in ics_of(client, appointment)

    appointment_cancel(appointment=appointment, actor=ayse)
    body = ics_of(client, appointment)
    event, vevent = both_parsers(body)

    assert str(event["status"]) == "CANCELLED"
    assert "location" not in event and "url" not in event
    assert not hasattr(vevent, "url") and not hasattr(vevent, "location")
    assert appointment.meeting_room not in body.replace("\r\n ", "")


def test_an_in_person_visit_is_at_the_clinic_address_without_a_link(as_user, ayse, schedule_x, day):
    appointment = book(ayse, schedule_x, at(day, 10), visit_type=VisitType.IN_PERSON)
    clinic = appointment.clinic

    event, vevent = both_parsers(ics_of(as_user(schedule_x.user), appointment))

    assert vevent.location.value == f"{clinic.address}, {clinic.city}"
    assert str(event["status"]) == "CONFIRMED"
    assert "url" not in event
