"""Staff sessions as the portal and the admin make them: logged in AND verified by a second factor.

`verified_client(user)` logs in with force_login and then does what django_otp.login() does after
a right code: it names a real confirmed TOTP device of the user in the session. The OTP middleware
checks that device (the user's own, confirmed) on every request, so the rule is not weakened."""

import time

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def confirmed_totp_device(user) -> TOTPDevice:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="test", confirmed=True
    )


def totp_code(device: TOTPDevice, *, at: float | None = None) -> str:
    """The code an authenticator app shows for `device` now (or at the given UNIX time)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


def verified_client(user, **defaults) -> Client:
    client = Client(**defaults)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = confirmed_totp_device(user).persistent_id
    session.save()
    return client
