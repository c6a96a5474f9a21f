import pytest

from reviews import services
from reviews.models import Review, ReviewModeration
from tests.reviews.factories import grant_review_publication, past_appointment
from tests.second_factor import verified_client

pytestmark = pytest.mark.django_db

NASTY = '<script>alert("x")</script><a href="https://evil.example/x">win</a> https://evil.example/y'


@pytest.fixture
def admin_client(platform_admin):
    return verified_client(platform_admin)


@pytest.fixture
def nasty_review(patient_ayse, doctor_x):
    grant_review_publication(patient_ayse)
    appointment = past_appointment(patient=patient_ayse, doctor=doctor_x)
    review = services.review_create(
        patient=patient_ayse, appointment_id=appointment.id, rating=1, comment=NASTY, publish=True
    )
    services.review_reply(doctor_user=doctor_x.user, review_id=review.id, text="<script>reply()</script>")
    return review


def _assert_inert(html: str) -> None:
    assert "<script>alert" not in html
    assert "<script>reply" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert 'href="https://evil.example' not in html


def test_the_changelist_escapes_comments_and_renders_no_links(admin_client, nasty_review):
    response = admin_client.get("/admin/reviews/review/")

    assert response.status_code == 200
    _assert_inert(response.content.decode())


def test_the_change_page_escapes_comment_and_reply(admin_client, nasty_review):
    response = admin_client.get(f"/admin/reviews/review/{nasty_review.id}/change/")

    html = response.content.decode()
    assert response.status_code == 200
    _assert_inert(html)
    assert "&lt;script&gt;reply()&lt;/script&gt;" in html


def test_the_reported_filter_lists_reviews_with_open_reports(as_user, admin_client, patient_mehmet, nasty_review):
    as_user(patient_mehmet).post(f"/api/v1/reviews/{nasty_review.id}/report/", {"reason": "script"})

    reported = admin_client.get("/admin/reviews/review/?reported=open")
    clean = admin_client.get("/admin/reviews/review/?reported=open&is_hidden__exact=1")

    assert str(nasty_review.id) in reported.content.decode()
    assert str(nasty_review.id) not in clean.content.decode()


def test_a_moderator_hides_and_restores_with_a_reason_from_the_change_page(admin_client, doctor_x, nasty_review):
    url = f"/admin/reviews/review/{nasty_review.id}/change/"

    hidden = admin_client.post(url, _form("hide", "script injection attempt"))
    nasty_review.refresh_from_db()
    doctor_x.refresh_from_db()
    assert hidden.status_code == 302
    assert nasty_review.is_hidden
    assert (doctor_x.rating_sum, doctor_x.rating_count) == (0, 0)

    admin_client.post(url, _form("restore", "reviewed again"))
    nasty_review.refresh_from_db()
    doctor_x.refresh_from_db()
    assert not nasty_review.is_hidden
    assert (doctor_x.rating_sum, doctor_x.rating_count) == (1, 1)
    assert list(ReviewModeration.objects.values_list("action", "reason")) == [
        ("hide", "script injection attempt"),
        ("restore", "reviewed again"),
    ]


def test_a_decision_without_a_reason_is_refused(admin_client, nasty_review):
    response = admin_client.post(f"/admin/reviews/review/{nasty_review.id}/change/", _form("hide", ""))

    nasty_review.refresh_from_db()
    assert response.status_code == 200  # the form again, with the error
    assert not nasty_review.is_hidden
    assert ReviewModeration.objects.count() == 0


def test_the_comment_cannot_be_edited_in_the_admin(admin_client, nasty_review):
    admin_client.post(
        f"/admin/reviews/review/{nasty_review.id}/change/", {**_form("", ""), "comment": "rewritten", "rating": 5}
    )

    nasty_review.refresh_from_db()
    assert (nasty_review.comment, nasty_review.rating) == (NASTY, 1)


def test_nobody_deletes_a_review_in_the_admin(admin_client, nasty_review):
    page = admin_client.get(f"/admin/reviews/review/{nasty_review.id}/delete/")
    bulk = admin_client.post(
        "/admin/reviews/review/", {"action": "delete_selected", "_selected_action": [str(nasty_review.id)]}
    )

    assert page.status_code == 403
    assert bulk.status_code in (200, 302)
    assert Review.objects.filter(pk=nasty_review.pk).exists()


def test_clinic_staff_cannot_open_the_review_admin(clinic_admin_x, nasty_review):
    client = verified_client(clinic_admin_x)

    response = client.get("/admin/reviews/review/")

    assert response.status_code == 302  # to the admin login: not staff
    assert Review.objects.filter(pk=nasty_review.pk).exists()


def _form(decision: str, reason: str) -> dict:
    # The inlines' management forms are part of every admin change form.
    management = {}
    for prefix in ("reports", "moderation_history"):
        management.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "0",
            }
        )
    return {"decision": decision, "reason": reason, **management}
