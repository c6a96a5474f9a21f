"""The booking, reschedule and cancel requests cost a fixed, small number of queries.

Inside a test's transaction the service's own transaction is a savepoint: SAVEPOINT and RELEASE
are counted here where production sends BEGIN and COMMIT (which Django does not count). Each test
asserts the whole count and then the count without those two."""

from django.db import connection

from appointments.models import Appointment, AppointmentStatusChange
from notifications.models import Notification
from privacy.models import AuditEntry
from tests.appointments.conftest import at
from tests.appointments.test_booking import booking
from tests.bearer import seeded_user_query


def index_upkeep() -> int:
    """Queries of `availability_index.touch` in each of these writes: the per-doctor advisory lock
    (PostgreSQL only), working hours and breaks (UNION ALL), busy time (UNION ALL) and one upsert
    of the rows."""
    return 4 if connection.vendor == "postgresql" else 3


def without_savepoints(captured) -> list[str]:
    sqls = [query["sql"] for query in captured]
    savepoints = [sql for sql in sqls if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    assert len(savepoints) == 2, savepoints  # the service's transaction, and no savepoint inside it
    return [sql for sql in sqls if sql not in savepoints]


def test_a_booking_costs_sixteen_queries_and_the_index_upkeep(
    as_user, ayse, schedule_x, day, django_assert_num_queries
):
    client = as_user(ayse)

    # 1 the user of the access token (simplejwt; is_active carries the revocation of an erased account)
    # 2 the doctor (404 when unknown or inactive)
    # 3 the consent grants in force, locked (FOR UPDATE; the notice version is a subquery)
    # 4 the second look at the grants, in a new statement (privacy.guard.consent_hold)
    # 5 the patient's row locked, the doctor's row share-locked, the doctor's is_active and the
    #   patient's idempotency record for this key: one statement
    # 6 working hours and breaks (UNION ALL), 7 time off and bookings around the slot (UNION ALL)
    # 8 the slot's clinic with the patient's limits (overlap, upcoming, same doctor that day)
    # 9 INSERT appointment (the exclusion constraints decide a race), 10 INSERT history row
    # 11 the notification state (preferences, caps, rows of the event), 12 INSERT outbox row
    # 13 INSERT idempotency record, 14 INSERT audit entry
    # 15 the patient's data key for the visit reason and exam type (docs/encryption.md), 16 its
    #   INSERT: this is the patient's first encrypted value (a later booking reads the key only)
    # + the availability index's upkeep (index_upkeep)
    # The answer is built from the rows in hand: no read back.
    with django_assert_num_queries(18 + index_upkeep()) as queries:
        response = client.post(
            "/api/v1/appointments/",
            booking(schedule_x, at(day, 10)),
            format="json",
            HTTP_IDEMPOTENCY_KEY="lean-1",
        )

    assert len(without_savepoints(queries.captured_queries)) == 16 + index_upkeep()
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(c["from_status"], c["to_status"]) for c in body["history"]] == [("", "booked")]
    assert body["clinic_name"] and body["doctor_name"] and body["visit_reason"]
    appointment = Appointment.objects.get(pk=body["id"])
    assert AppointmentStatusChange.objects.filter(appointment=appointment).count() == 1
    assert Notification.objects.filter(appointment_id=appointment.id, kind="appointment_booked").count() >= 1
    assert AuditEntry.objects.filter(action="appointment_booked", patient=ayse).count() == 1


def test_a_replayed_booking_answers_the_same_and_books_nothing_new(as_user, ayse, schedule_x, day):
    client = as_user(ayse)
    first = client.post(
        "/api/v1/appointments/", booking(schedule_x, at(day, 10)), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    again = client.post(
        "/api/v1/appointments/", booking(schedule_x, at(day, 10)), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Appointment.objects.filter(patient=ayse).count() == 1


def test_a_reschedule_costs_fourteen_queries_and_the_index_upkeep(
    as_user, ayse, schedule_x, day, django_assert_num_queries
):
    client = as_user(ayse)
    booked = client.post("/api/v1/appointments/", booking(schedule_x, at(day, 10)), format="json").json()

    # 1 the user of the access token (seeded_user_query: none once its state is in Redis),
    # 2 the appointment as the viewer may see it, 3, 4 the consent held (locked grants, then the second look)
    # 5 the appointment, its patient and its doctor locked in one statement (with clinic and users)
    # 6 working hours and breaks (UNION ALL), 7 time off and bookings around the new slot (UNION ALL)
    # 8 the clinic with the patient's limits, 9 UPDATE appointment, 10 INSERT history row
    # 11 the waitlist: who waits for the days of the time left free (one aggregate; nobody here,
    #    so nothing more: appointments.events.time_freed, waitlist.services.offers_for_freed_time)
    # 12 the notification state, 13 INSERT outbox row, 14 the history for the answer
    # + the availability index's upkeep (both days in one touch)
    with django_assert_num_queries(15 + seeded_user_query() + index_upkeep()) as queries:
        response = client.post(
            f"/api/v1/appointments/{booked['id']}/reschedule/", {"start": at(day, 11).isoformat()}, format="json"
        )

    assert len(without_savepoints(queries.captured_queries)) == 13 + seeded_user_query() + index_upkeep()
    assert response.status_code == 200, response.content
    assert [c["to_status"] for c in response.json()["history"]] == ["booked", "booked"]


def test_a_cancel_costs_eleven_queries_and_the_index_upkeep(as_user, ayse, schedule_x, day, django_assert_num_queries):
    client = as_user(ayse)
    booked = client.post("/api/v1/appointments/", booking(schedule_x, at(day, 10)), format="json").json()

    # 1 the user of the access token (seeded_user_query: none once its state is in Redis),
    # 2 the appointment as the viewer may see it
    # 3 the appointment locked (with clinic, doctor and patient, which stay unlocked)
    # 4 UPDATE appointment, 5 INSERT history row
    # 6 the waitlist: who waits for the day of the freed slot (one aggregate; nobody here)
    # 7 the patient's notification state, 8 INSERT outbox row
    # 9 the doctor's notification state, 10 INSERT outbox row, 11 the history for the answer
    # + the availability index's upkeep
    with django_assert_num_queries(12 + seeded_user_query() + index_upkeep()) as queries:
        response = client.post(f"/api/v1/appointments/{booked['id']}/cancel/", {}, format="json")

    assert len(without_savepoints(queries.captured_queries)) == 10 + seeded_user_query() + index_upkeep()
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled_by_patient"
