"""Password rules beyond Django's: a long password of one repeated character is still a guess."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MIN_DISTINCT_CHARACTERS = 4


class DistinctCharactersValidator:
    """Refuse passwords built from fewer than four different characters (`aaaaaaaaaaaa`, `abababababab`)."""

    def validate(self, password, user=None):
        if len(set(password)) < MIN_DISTINCT_CHARACTERS:
            raise ValidationError(
                _("This password is made of too few different characters."), code="password_too_repetitive"
            )

    def get_help_text(self):
        return _("Your password must contain at least 4 different characters.")
