"""Every consent text and the privacy summary name the data controller and how to apply to it
(KVKK Art. 10 and 13, issue 16); the values come from the settings."""

import pytest

pytestmark = pytest.mark.django_db

CONTROLLER = {
    "CONTROLLER_NAME": "Örnek Sağlık A.Ş.",
    "CONTROLLER_ADDRESS": "Barbaros Bulvarı No: 1, 34349 Beşiktaş/İstanbul",
    "CONTROLLER_EMAIL": "kvkk@ornek.test",
    "CONTROLLER_KEP": "ornek@hs01.kep.tr",
}


@pytest.fixture
def controller(settings):
    for name, value in CONTROLLER.items():
        setattr(settings, name, value)


def _expected(block):
    assert {key: block[key] for key in ("name", "address", "email", "kep")} == {
        "name": CONTROLLER["CONTROLLER_NAME"],
        "address": CONTROLLER["CONTROLLER_ADDRESS"],
        "email": CONTROLLER["CONTROLLER_EMAIL"],
        "kep": CONTROLLER["CONTROLLER_KEP"],
    }


@pytest.mark.parametrize(("language", "words"), [("tr", ("KEP", "30 gün")), ("en", ("KEP", "30 days"))])
def test_every_consent_text_carries_the_controller_and_the_application_channels(controller, api, language, words):
    items = api.get("/api/v1/consent-texts/", HTTP_ACCEPT_LANGUAGE=language).json()

    assert len(items) >= 4
    for item in items:
        _expected(item["controller"])
        assert all(word in item["controller"]["how_to_apply"] for word in words)


def test_the_privacy_summary_names_the_controller(controller, as_user, patient_ayse):
    summary = as_user(patient_ayse).get("/api/v1/privacy/summary/", HTTP_ACCEPT_LANGUAGE="en").json()

    _expected(summary["controller"])
    assert "within 30 days" in summary["controller"]["how_to_apply"]


def test_the_default_controller_is_marked_as_a_demo_placeholder():
    from django.conf import settings

    assert "DEMO" in settings.CONTROLLER_NAME and "DEMO" in settings.CONTROLLER_ADDRESS
    assert settings.CONTROLLER_EMAIL.endswith(".invalid") and settings.CONTROLLER_KEP.endswith(".invalid")


def test_the_portal_footer_names_the_controller_beside_the_cookie_notice(controller, client):
    page = client.get("/portal/login/", HTTP_ACCEPT_LANGUAGE="tr").content.decode()

    assert 'id="cookie-notice"' in page and "yalnızca çalışması için zorunlu çerezleri" in page
    assert "Veri sorumlusu: Örnek Sağlık A.Ş." in page and "ornek@hs01.kep.tr" in page
