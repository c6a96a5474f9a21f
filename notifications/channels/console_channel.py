"""The embedded default's channel: the message goes to the log instead of a provider."""

import logging

from notifications.channels import Accepted, Outgoing

logger = logging.getLogger("notifications.console")


class ConsoleChannel:
    def send(self, message: Outgoing) -> Accepted:
        # Kind and id only: a body may hold a verification code, and no log line holds a body.
        logger.info("notification %s kind=%s delivered to console", message.notification_id, message.kind)
        return Accepted(provider_sid=None, status="delivered")

    def lookup(self, message: Outgoing) -> Accepted | None:
        return None
