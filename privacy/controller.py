"""The data controller's identity and the ways to apply to it (KVKK Art. 10 and 13, and the
Communiqué on the Procedures and Principles of Application to the Data Controller): shown with every
consent text, in the privacy summary and on the portal. The values come from the settings
CONTROLLER_NAME, CONTROLLER_ADDRESS, CONTROLLER_EMAIL and CONTROLLER_KEP (README); their defaults
are demo placeholders."""

from django.conf import settings
from django.utils.translation import gettext as _


def controller_identity() -> dict:
    return {
        "name": settings.CONTROLLER_NAME,
        "address": settings.CONTROLLER_ADDRESS,
        "email": settings.CONTROLLER_EMAIL,
        "kep": settings.CONTROLLER_KEP,
        "how_to_apply": _(
            "Apply in writing to the address above, by registered electronic mail (KEP) to the KEP "
            "address, with a secure electronic or mobile signature, from the e-mail address registered "
            "with us to the e-mail address above, or in the app. We answer within 30 days at the latest "
            "(KVKK Art. 13)."
        ),
    }
