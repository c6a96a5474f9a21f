"""Ages from birth dates: the one place a birth date is checked and an age computed."""

from datetime import date

from django.utils.translation import gettext as _

from medplatform.errors import ValidationFailed

OLDEST_AGE = 130


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def check_birth_date(birth_date: date, *, today: date) -> date:
    """A birth date that is not in the future and not more than OLDEST_AGE years ago."""
    if birth_date > today or age_on(birth_date, today) > OLDEST_AGE:
        raise ValidationFailed(fields={"birth_date": [_("Enter a real birth date.")]})
    return birth_date
