import pytest

from tests.factories import UserFactory


@pytest.fixture
def patient_ali(db):
    return UserFactory(email="ali@example.test", first_name="Ali", last_name="Kaya")
