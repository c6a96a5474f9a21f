"""The second factor (TOTP, with single-use recovery codes) that doctors, clinic staff and platform
admins give after their password: in the portal, the admin and at /auth/token/. django-otp keeps
the devices and throttles wrong codes on each device (1, 2, 4, 8 ... seconds)."""

import re
from base64 import b32encode

from django.db import transaction
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

RECOVERY_CODE_COUNT = 10
_TOTP_CODE = re.compile(r"^\d{6}$")


def second_factor_required(user: User) -> bool:
    """Everyone who can see other people's data: doctors, clinic staff, platform admins, admin staff."""
    return user.is_doctor or user.is_clinic_staff or user.is_platform_admin or user.is_staff or user.is_superuser


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def device_for_code(*, user: User, code: str) -> Device | None:
    """The confirmed device that accepts `code` (a TOTP code or a recovery code, used up), if any."""
    code = "".join(str(code or "").split()).lower()
    if not code:
        return None
    wanted = TOTPDevice if _TOTP_CODE.match(code) else StaticDevice
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if isinstance(device, wanted) and device.verify_token(code):
                return device
    return None


def enrolment_device(*, user: User) -> TOTPDevice:
    """The unconfirmed TOTP device whose secret the enrolment page shows (the same one on reload)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name="portal", confirmed=False)


def totp_secret(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed in (base32)."""
    return b32encode(device.bin_key).decode()


@transaction.atomic
def enrolment_confirm(*, user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the device with its first code; returns the new recovery codes (shown once), or None."""
    if device.user_id != user.pk or device.confirmed or not device.verify_token("".join(str(code).split())):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=code) for code in codes])
    return codes
