"""Doctor search: Turkish-aware matching, ordering, available_on and next_available, in a fixed
number of queries."""

from datetime import timedelta

import pytest

from accounts.models import Doctor
from accounts.services import user_update
from appointments.demo import create_demo_schedule
from appointments.services import time_off_create
from tests.appointments.conftest import at
from tests.factories import DoctorFactory, specialty

pytestmark = pytest.mark.django_db


def names(response):
    return {row["id"] for row in response.json()["results"]}


def test_available_on_keeps_doctors_with_a_free_slot_that_day(api, schedule_x, schedule_y, doctor_x, day):
    unscheduled = DoctorFactory(clinics=list(doctor_x.clinics.all()))
    time_off_create(actor=schedule_y.user, doctor=schedule_y, start=at(day, 0), end=at(day + timedelta(days=1), 0))

    response = api.get(f"/api/v1/doctors/?available_on={day}")

    assert response.status_code == 200
    assert names(response) == {str(schedule_x.id)}
    assert str(unscheduled.id) not in names(api.get("/api/v1/doctors/?available_on=" + str(day)))


def test_available_on_a_weekend_finds_nobody_on_a_weekday_schedule(api, schedule_x, day):
    saturday = day + timedelta(days=5 - day.weekday())

    assert api.get(f"/api/v1/doctors/?available_on={saturday}").json()["count"] == 0


def test_next_available_is_the_first_free_slot_in_the_clinic_zone(api, schedule_x, doctor_x):
    unscheduled = DoctorFactory(clinics=list(doctor_x.clinics.all()))

    rows = {row["id"]: row for row in api.get("/api/v1/doctors/").json()["results"]}

    first = rows[str(schedule_x.id)]["next_available"]
    assert first is not None and first[11:16] in {f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)}
    assert rows[str(unscheduled.id)]["next_available"] is None
    assert api.get(f"/api/v1/doctors/{schedule_x.id}/").json()["next_available"] == first


@pytest.mark.parametrize("page_size", [2, 10])
def test_search_costs_the_same_queries_whatever_the_page_size(api, clinic_x, day, page_size, django_assert_num_queries):
    for _ in range(10):
        create_demo_schedule(DoctorFactory(clinics=[clinic_x]), clinic_x)

    # available_on is a subquery on the availability index inside the page's query, no query of its
    # own; 1 the page with its count (COUNT(*) OVER ()), 1 clinics prefetch; 1 next_available for
    # the page from the index: the earliest bookable row per doctor and clinic and the rows where
    # now + notice cuts the free slots, in one UNION ALL
    with django_assert_num_queries(3):
        response = api.get(f"/api/v1/doctors/?available_on={day}&page_size={page_size}")

    assert response.json()["count"] == 10
    assert len(response.json()["results"]) == page_size
    assert all(row["next_available"] for row in response.json()["results"])


# Turkish-aware matching: the stored search keys and the query go through one function.


@pytest.fixture
def aydin(clinic_x):
    return DoctorFactory(user__first_name="Aydın", user__last_name="Yıldız", clinics=[clinic_x])


@pytest.fixture
def dermatologist_in_ankara(clinic_y):
    return DoctorFactory(
        user__first_name="Selin", user__last_name="Çelik", specialty=specialty("dermatology"), clinics=[clinic_y]
    )


@pytest.mark.parametrize("city", ["istanbul", "ISTANBUL", "İstanbul", "İSTANBUL", "Istanbul", " istanbul "])
def test_city_matches_whatever_the_case_and_dotted_i(api, aydin, dermatologist_in_ankara, city):
    assert names(api.get("/api/v1/doctors/", {"city": city})) == {str(aydin.id)}


@pytest.mark.parametrize("q", ["aydin", "Aydın", "AYDIN", "aydın", "yildiz", "Yıldız", "YILDIZ", "aydin yildiz"])
def test_q_matches_the_name_whatever_the_case_dotless_i_and_accents(api, aydin, dermatologist_in_ankara, q):
    assert names(api.get("/api/v1/doctors/", {"q": q})) == {str(aydin.id)}


def test_q_ignores_accents_on_other_letters(api, aydin, dermatologist_in_ankara):
    assert names(api.get("/api/v1/doctors/", {"q": "celik"})) == {str(dermatologist_in_ankara.id)}
    assert names(api.get("/api/v1/doctors/", {"q": "ÇELİK"})) == {str(dermatologist_in_ankara.id)}


@pytest.mark.parametrize(
    "value", ["cardiology", "Cardiology", "CARDIOLOGY", "Kardiyoloji", "kardiyoloji", "KARDİYOLOJİ", "KARDIYOLOJI"]
)
def test_specialty_takes_the_slug_or_either_name(api, aydin, dermatologist_in_ankara, value):
    assert names(api.get("/api/v1/doctors/", {"specialty": value})) == {str(aydin.id)}


@pytest.mark.parametrize("value", ["Çocuk Sağlığı ve Hastalıkları", "cocuk sagligi ve hastaliklari", "Pediatrics"])
def test_specialty_names_with_turkish_letters_match_in_either_language(api, clinic_x, value):
    pediatrician = DoctorFactory(specialty=specialty("pediatrics"), clinics=[clinic_x])
    DoctorFactory(clinics=[clinic_x])

    assert names(api.get("/api/v1/doctors/", {"specialty": value})) == {str(pediatrician.id)}


def test_q_matches_a_specialty_name_in_either_language(api, aydin, dermatologist_in_ankara):
    assert names(api.get("/api/v1/doctors/", {"q": "dermatoloji"})) == {str(dermatologist_in_ankara.id)}
    assert names(api.get("/api/v1/doctors/", {"q": "Dermatology"})) == {str(dermatologist_in_ankara.id)}


def test_an_unknown_specialty_finds_nobody(api, aydin):
    assert api.get("/api/v1/doctors/", {"specialty": "astrology"}).json()["count"] == 0


def test_a_renamed_doctor_is_found_by_the_new_name(api, aydin):
    user_update(user=aydin.user, last_name="Öztürk")

    assert names(api.get("/api/v1/doctors/", {"q": "ozturk"})) == {str(aydin.id)}
    assert api.get("/api/v1/doctors/", {"q": "yildiz"}).json()["count"] == 0


def test_a_clinic_moved_to_another_city_is_found_there(api, aydin, clinic_x):
    clinic_x.city = "İzmir"
    clinic_x.save(update_fields=["city", "updated_at"])

    assert names(api.get("/api/v1/doctors/", {"city": "IZMIR"})) == {str(aydin.id)}


# ordering


def rated(doctor, total: int, count: int):
    Doctor.objects.filter(pk=doctor.pk).update(rating_sum=total, rating_count=count)
    return doctor


def ordered_ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_ordering_by_rating_puts_the_best_average_first_then_the_most_reviewed(api, clinic_x):
    unrated = DoctorFactory(clinics=[clinic_x])
    good_few = rated(DoctorFactory(clinics=[clinic_x]), 9, 2)  # 4.5 from 2
    good_many = rated(DoctorFactory(clinics=[clinic_x]), 45, 10)  # 4.5 from 10
    best = rated(DoctorFactory(clinics=[clinic_x]), 5, 1)
    poor = rated(DoctorFactory(clinics=[clinic_x]), 2, 1)

    ids = ordered_ids(api.get("/api/v1/doctors/?ordering=rating"))

    assert ids == [str(d.id) for d in (best, good_many, good_few, poor, unrated)]


def test_ordering_by_name_ignores_accents(api, clinic_x):
    ozturk = DoctorFactory(user__first_name="Ali", user__last_name="Öztürk", clinics=[clinic_x])
    celik = DoctorFactory(user__first_name="Can", user__last_name="Çelik", clinics=[clinic_x])
    demir = DoctorFactory(user__first_name="Ece", user__last_name="Demir", clinics=[clinic_x])
    aksoy = DoctorFactory(user__first_name="Ece", user__last_name="Aksoy", clinics=[clinic_x])

    ids = ordered_ids(api.get("/api/v1/doctors/?ordering=name"))

    assert ids == [str(d.id) for d in (aksoy, celik, demir, ozturk)]


def test_ordering_by_next_available_puts_the_soonest_first_across_pages(api, schedule_x, clinic_x, day):
    # given: doctor_x's days fully booked by time off until `day`; a second doctor free tomorrow;
    # a third without hours at all
    soon = DoctorFactory(clinics=[clinic_x])
    create_demo_schedule(soon, clinic_x)
    never = DoctorFactory(user__last_name="Aaaa", clinics=[clinic_x])
    time_off_create(actor=schedule_x.user, doctor=schedule_x, start=at(day - timedelta(days=30), 0), end=at(day, 0))

    # when
    first = api.get("/api/v1/doctors/?ordering=next_available&page_size=1").json()
    second = api.get("/api/v1/doctors/?ordering=next_available&page_size=1&page=2").json()
    third = api.get("/api/v1/doctors/?ordering=next_available&page_size=1&page=3").json()

    # then
    assert [row["id"] for row in first["results"] + second["results"] + third["results"]] == [
        str(soon.id),
        str(schedule_x.id),
        str(never.id),
    ]
    assert first["count"] == 3
    assert first["results"][0]["next_available"] < second["results"][0]["next_available"]
    assert third["results"][0]["next_available"] is None


def test_an_unknown_ordering_is_a_validation_error(api):
    response = api.get("/api/v1/doctors/?ordering=price")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "ordering" in response.json()["fields"]


@pytest.mark.parametrize("size", [2, 12])
@pytest.mark.parametrize("ordering", ["rating", "name", "next_available"])
def test_ordered_search_costs_the_same_queries_at_any_size(api, clinic_x, size, ordering, django_assert_num_queries):
    for n in range(size):
        doctor = rated(DoctorFactory(user__last_name="Aydın", clinics=[clinic_x]), n % 5 + 1, 1)
        create_demo_schedule(doctor, clinic_x)

    # rating, name: 1 the page with its count, 1 clinics prefetch, then next_available for the page
    # from the availability index (1: earliest bookable rows and rows cut by now + notice, UNION ALL).
    # next_available: 1 ids of every match, the same 1 index query for all of them, 1 page, 1 clinics.
    expected = 4 if ordering == "next_available" else 3
    with django_assert_num_queries(expected):
        response = api.get(f"/api/v1/doctors/?city=ISTANBUL&q=aydin&ordering={ordering}&page_size=5")

    assert response.json()["count"] == size
    assert len(response.json()["results"]) == min(size, 5)


@pytest.mark.parametrize("page_size", [1, 3, 5])
def test_the_page_and_its_count_read_together_page_as_before(api, clinic_x, page_size):
    """CountedPagination: every page, the count on each, the links, and past the last page 404."""
    for n in range(7):
        DoctorFactory(user__last_name=f"Sayfa{n}", clinics=[clinic_x])
    pages, number = [], 1
    while True:
        response = api.get(f"/api/v1/doctors/?city=ISTANBUL&ordering=name&page_size={page_size}&page={number}")
        if response.status_code == 404:
            assert response.json()["code"] == "not_found"
            break
        body = response.json()
        assert body["count"] == 7
        assert (body["next"] is None) == (number * page_size >= 7)
        assert (body["previous"] is None) == (number == 1)
        pages.append([row["id"] for row in body["results"]])
        number += 1

    assert len(pages) == -(-7 // page_size)
    ids = [doctor_id for page in pages for doctor_id in page]
    assert len(ids) == len(set(ids)) == 7
    nothing = api.get("/api/v1/doctors/?city=nowhere").json()
    assert nothing == {"count": 0, "next": None, "previous": None, "results": []}
    for bad in ("0", "-1", "x"):
        assert api.get(f"/api/v1/doctors/?page={bad}").status_code == 404
    last = api.get(f"/api/v1/doctors/?city=ISTANBUL&ordering=name&page_size={page_size}&page=last").json()
    assert [row["id"] for row in last["results"]] == pages[-1]
