"""The client's address, the one answer that throttles, login limits and the audit trail share.

X-Forwarded-For is written by whoever sends the request, so it is believed only as far as our own
proxies wrote it: with TRUSTED_PROXY_COUNT = n (the reverse proxies in front of the app) the
client is the n-th address from the right, the one our outermost proxy appended. With
TRUSTED_PROXIES set, the header is read only when the direct peer is one of those proxies. With
neither (the default) the header is ignored and the socket's peer address is the client.
django-ipware parses the header (ports, brackets, IPv6, junk entries).
"""

import ipaddress

from django.conf import settings
from ipware import get_client_ip


def _peer_is_trusted_proxy(peer: str | None) -> bool:
    networks = settings.TRUSTED_PROXIES
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in networks)


def client_ip(request) -> str | None:
    """The address of the client that made `request`, never one it merely claims."""
    peer = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies == 0 or not _peer_is_trusted_proxy(peer):
        return peer
    # ipware counts the proxies *inside* the header, not the peer that sent it: our outermost
    # proxy's entry is the (proxies - 1)-th from the right. A chain shorter than that did not
    # pass through all our proxies, so it is not believed (ipware then gives None).
    ip, _routable = get_client_ip(
        request,
        proxy_order="left-most",
        proxy_count=proxies - 1,
        request_header_order=["HTTP_X_FORWARDED_FOR"],
        strict=False,
        algorithm="modern",
    )
    return ip or peer
