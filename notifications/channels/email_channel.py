"""E-mail through Django's mail framework (EMAIL_BACKEND decides SMTP, console or locmem)."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage

from notifications.channels import Accepted, Outgoing, PermanentSendError, TransientSendError


class EmailChannel:
    def send(self, message: Outgoing) -> Accepted:
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address],
            headers={"X-Medplatform-Notification": message.notification_id},
        )
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused:
            raise PermanentSendError("smtp_recipient_refused") from None
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentSendError(f"smtp_{exc.smtp_code}") from None
            raise TransientSendError(f"smtp_{exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientSendError(f"smtp_{type(exc).__name__}") from None
        return Accepted(provider_sid=None)

    def lookup(self, message: Outgoing) -> Accepted | None:
        # SMTP offers no look-up; an e-mail whose outcome was unknown is sent again.
        return None
