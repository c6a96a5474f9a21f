# The fake Twilio that the real SDK talks to: verification codes by SMS are read from it.
from tests.notifications.conftest import fake_twilio  # noqa: F401
