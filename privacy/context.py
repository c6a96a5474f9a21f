"""Where a privacy-relevant act came from: recorded with every consent event and audit entry."""

from dataclasses import dataclass

from medplatform.client_address import client_ip
from medplatform.middleware import current_request_id


@dataclass(frozen=True)
class ActContext:
    channel: str = "system"
    ip_address: str | None = None
    user_agent: str = ""
    request_id: str = ""


def act_context(request, channel: str = "api") -> ActContext:
    return ActContext(
        channel=channel,
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
        request_id=getattr(request, "request_id", "") or current_request_id(),
    )


SYSTEM = ActContext()
