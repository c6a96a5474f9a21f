"""The booking, reschedule and cancel requests cost a fixed, small number of queries.

Inside a test's transaction the service's own transaction is a savepoint: SAVEPOINT and RELEASE
are counted here where production sends BEGIN and COMMIT (which Django does not count). Each test
asserts the whole count and then the count without those two."""

from appointments.models import Appointment, AppointmentStatusChange
from notifications.models import Notification
from privacy.models import AuditEntry
from tests.appointments.conftest import at
from tests.appointments.test_booking import booking
from tests.bearer import seeded_user_query


def index_upkeep() -> int:
    """Queries of `availability_index.touch` in a cancel or a reschedule: working hours and breaks
    (UNION ALL), busy time (UNION ALL) and one upsert of the rows. The per-doctor lock it needs is
    the doctor's row, locked in the statement that locks the appointment (appointments.locks)."""
    return 3


def without_savepoints(captured) -> list[str]:
    sqls = [query["sql"] for query in captured]
    savepoints = [sql for sql in sqls if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    assert len(savepoints) == 2, savepoints  # the service's transaction, and no savepoint inside it
    return [sql for sql in sqls if sql not in savepoints]


def test_a_booking_costs_fifteen_queries_with_the_index_upkeep(
    as_user, ayse, schedule_x, day, django_assert_num_queries
):
    client = as_user(ayse)

    # 1 the user of the access token (her first request: no state in Redis yet, accounts.auth_state)
    # 2 the consent grants in force, locked (FOR UPDATE; the notice version is a subquery)
    # 3 the second look at the grants, in a new statement (privacy.guard.consent_hold)
    # 4 the doctor with its user (404 when unknown or inactive), its row locked: the per-doctor
    #   lock of every availability writer (appointments.locks), the patient's row locked and the
    #   patient's idempotency record for this key: one statement
    # 5 working hours and breaks (UNION ALL), 6 time off, bookings and held time around the slot
    #   (UNION ALL), read under the doctor's lock: the index's upkeep reuses them
    # 7 the slot's clinic with the patient's limits (overlap, upcoming, same doctor that day) and
    #   the patient's data key for the visit reason and exam type (docs/encryption.md)
    # 8 INSERT the data key: this is the patient's first encrypted value (a later booking has it)
    # 9 INSERT appointment (the exclusion constraints decide a race), 10 INSERT history row
    # 11 the notification state (preferences, caps, rows of the event), 12 INSERT outbox row
    # 13 INSERT idempotency record
    # 14 the availability index: upsert the slot's days, computed from 5 and 6 with this booking
    # 15 INSERT audit entry
    # The answer is built from the rows in hand: no read back.
    with django_assert_num_queries(17) as queries:
        response = client.post(
            "/api/v1/appointments/",
            booking(schedule_x, at(day, 10)),
            format="json",
            HTTP_IDEMPOTENCY_KEY="lean-1",
        )

    assert len(without_savepoints(queries.captured_queries)) == 15
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(c["from_status"], c["to_status"]) for c in body["history"]] == [("", "booked")]
    assert body["clinic_name"] and body["doctor_name"] and body["visit_reason"]
    appointment = Appointment.objects.get(pk=body["id"])
    assert AppointmentStatusChange.objects.filter(appointment=appointment).count() == 1
    assert Notification.objects.filter(appointment_id=appointment.id, kind="appointment_booked").count() >= 1
    assert AuditEntry.objects.filter(action="appointment_booked", patient=ayse).count() == 1


def test_a_later_booking_without_a_key_costs_thirteen_queries(
    as_user, ayse, schedule_x, schedule_y, day, django_assert_num_queries
):
    client = as_user(ayse)
    assert client.post("/api/v1/appointments/", booking(schedule_x, at(day, 10)), format="json").status_code == 201

    # What the bench's bookings cost: not her first request, her data key exists, no key sent.
    # 1 her user: the row for the access token (embedded), or, with her state in Redis (services
    #   run, accounts.auth_state), the rest of her row when the notification reads her contact
    # 2, 3 the consent held, 4 the doctor, the doctor's lock, the patient's lock (and no record)
    # 5 working hours and breaks, 6 time off, bookings and held time, 7 the clinic with the
    #   patient's limits and her data key, 8 INSERT appointment, 9 INSERT history row
    # 10 the notification state, 11 INSERT outbox row, 12 the index's upsert, 13 INSERT audit entry
    with django_assert_num_queries(15) as queries:
        response = client.post("/api/v1/appointments/", booking(schedule_y, at(day, 11)), format="json")

    assert len(without_savepoints(queries.captured_queries)) == 13
    assert response.status_code == 201, response.content


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
    # 5 the appointment, its patient and its doctor locked in one statement (with clinic and users;
    #   the doctor's row is the per-doctor lock of every availability writer, appointments.locks)
    # 6 working hours and breaks (UNION ALL), 7 time off and bookings around the new slot (UNION ALL)
    # 8 the clinic with the patient's limits, 9 UPDATE appointment, 10 INSERT history row
    # 11 the waitlist: who waits for the days of the time left free (one aggregate; nobody here,
    #    so nothing more: appointments.events.time_freed, waitlist.services.offers_for_freed_time)
    # 12 the notification state, 13 INSERT outbox row, 14 the history for the answer
    # + the availability index's upkeep (both days in one touch; 5 holds the doctor's lock)
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
    # 3 the appointment and its doctor locked (the doctor's row: the per-doctor lock of every
    #   availability writer, appointments.locks), with clinic, patient and users, which stay unlocked
    # 4 UPDATE appointment, 5 INSERT history row
    # 6 the waitlist: who waits for the day of the freed slot (one aggregate; nobody here)
    # 7 the patient's notification state, 8 INSERT outbox row
    # 9 the doctor's notification state, 10 INSERT outbox row, 11 the history for the answer
    # + the availability index's upkeep (3 holds the doctor's lock)
    with django_assert_num_queries(12 + seeded_user_query() + index_upkeep()) as queries:
        response = client.post(f"/api/v1/appointments/{booked['id']}/cancel/", {}, format="json")

    assert len(without_savepoints(queries.captured_queries)) == 10 + seeded_user_query() + index_upkeep()
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled_by_patient"
