import pytest

from reviews import services
from reviews.models import ReviewReply, ReviewReport
from tests.reviews.factories import grant_review_publication, past_appointment

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(patient_ayse, doctor_x):
    grant_review_publication(patient_ayse)
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)
    return services.review_create(patient=patient_ayse, appointment_id=appointment.id, rating=4, publish=True)


@pytest.fixture
def private_review(patient_mehmet, doctor_x):
    appointment = past_appointment(patient=patient_mehmet, doctor=doctor_x)
    return services.review_create(patient=patient_mehmet, appointment_id=appointment.id, rating=2)


def _reply(client, review, text="Teşekkürler"):
    return client.post(f"/api/v1/reviews/{review.id}/reply/", {"text": text})


def test_the_reviewed_doctor_replies_and_the_reply_is_public(as_user, api, doctor_x, review):
    response = _reply(as_user(doctor_x.user), review, "Geçmiş olsun <b>bold</b>")

    assert response.status_code == 201
    row = api.get(f"/api/v1/doctors/{doctor_x.id}/reviews/").json()["results"][0]
    assert row["reply"]["text"] == "Geçmiş olsun <b>bold</b>"


def test_a_second_reply_gets_409(as_user, doctor_x, review):
    client = as_user(doctor_x.user)
    _reply(client, review)

    response = _reply(client, review, "again")

    assert response.status_code == 409
    assert response.json()["code"] == "review_not_allowed"
    assert ReviewReply.objects.get().text == "Teşekkürler"


@pytest.mark.parametrize("who", ["doctor_y", "patient_ayse", "clinic_admin_x", "receptionist_x", "platform_admin"])
def test_anyone_but_the_reviewed_doctor_gets_404_on_reply(request, as_user, review, who):
    user = request.getfixturevalue(who)
    user = getattr(user, "user", user)

    response = _reply(as_user(user), review)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert ReviewReply.objects.count() == 0


def test_the_doctor_cannot_reply_to_a_private_review(as_user, doctor_x, private_review):
    response = _reply(as_user(doctor_x.user), private_review)

    assert response.status_code == 404


def test_an_empty_reply_gets_400(as_user, doctor_x, review):
    response = _reply(as_user(doctor_x.user), review, "")

    assert response.status_code == 400


def test_any_signed_in_user_reports_a_review_and_it_enters_moderation(as_user, patient_mehmet, doctor_y, review):
    first = as_user(patient_mehmet).post(f"/api/v1/reviews/{review.id}/report/", {"reason": "spam"})
    second = as_user(doctor_y.user).post(f"/api/v1/reviews/{review.id}/report/", {})

    assert (first.status_code, second.status_code) == (202, 202)
    assert ReviewReport.objects.filter(review=review, resolved_at__isnull=True).count() == 2


def test_reporting_the_same_review_twice_keeps_one_report(as_user, patient_mehmet, review):
    client = as_user(patient_mehmet)
    client.post(f"/api/v1/reviews/{review.id}/report/", {"reason": "spam"})

    response = client.post(f"/api/v1/reviews/{review.id}/report/", {"reason": "spam again"})

    assert response.status_code == 202
    assert ReviewReport.objects.get().reason == "spam"


def test_an_anonymous_caller_cannot_report(api, review):
    response = api.post(f"/api/v1/reviews/{review.id}/report/", {})

    assert response.status_code == 401
    assert ReviewReport.objects.count() == 0


def test_a_private_review_cannot_be_reported_by_others(as_user, patient_ayse, private_review):
    response = as_user(patient_ayse).post(f"/api/v1/reviews/{private_review.id}/report/", {})

    assert response.status_code == 404
    assert ReviewReport.objects.count() == 0


def test_hiding_needs_a_reason_and_is_kept_in_history(platform_admin, doctor_x, review):
    from medplatform.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.review_hide(review_id=review.id, moderator=platform_admin, reason="  ")

    services.review_hide(review_id=review.id, moderator=platform_admin, reason="personal data in the text")
    services.review_restore(review_id=review.id, moderator=platform_admin, reason="edited out by support")

    history = list(review.moderation_history.values_list("action", "reason"))
    assert history == [("hide", "personal data in the text"), ("restore", "edited out by support")]
    doctor_x.refresh_from_db()
    assert (doctor_x.rating_sum, doctor_x.rating_count) == (4, 1)


def test_hiding_takes_the_review_out_of_the_rating_once(platform_admin, doctor_x, review):
    services.review_hide(review_id=review.id, moderator=platform_admin, reason="insult")
    services.review_hide(review_id=review.id, moderator=platform_admin, reason="insult, confirmed")

    doctor_x.refresh_from_db()
    assert (doctor_x.rating_sum, doctor_x.rating_count) == (0, 0)
    assert review.moderation_history.count() == 2


def test_moderating_resolves_the_open_reports(as_user, patient_mehmet, platform_admin, review):
    as_user(patient_mehmet).post(f"/api/v1/reviews/{review.id}/report/", {"reason": "rude"})

    services.review_hide(review_id=review.id, moderator=platform_admin, reason="rude")

    assert ReviewReport.objects.get().resolved_at is not None
