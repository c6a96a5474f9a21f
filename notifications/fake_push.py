"""A fake Web Push service on 127.0.0.1 that pywebpush talks to over HTTP, for tests and demos.

It does what a push service does with a message (RFC 8030, 8291, 8292): checks the VAPID
`Authorization: vapid t=<JWT>, k=<key>` header (ES256 signature, `aud` this service's origin, `exp`
in the future, a `sub`), requires `TTL` and `Content-Encoding: aes128gcm`, stores the encrypted
body for the subscription and answers 201 with a Location. A message with the `Topic` of one still
stored for that subscription replaces it, as RFC 8030 section 5.4 says. Subscriptions made here
hold the browser's side too (its P-256 private key and auth secret), so a test can decrypt what a
device would receive. Scripted answers: a subscription in `gone` gets 410, `fail_next(status)`
answers the next requests with that status, and `response_delay` holds every answer back after
the message is stored (a worker killed meanwhile never learns that it went out).

    push = FakePushService().start()
    device = push.subscribe()          # endpoint, p256dh, auth to register
    push.delivered(device)             # decrypted payloads, one per stored message
    push.stop()
"""

import base64
import json
import re
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

PUSH_PATH = re.compile(r"^/push/(?P<token>[A-Za-z0-9_-]+)$")


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64url_encode(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).decode().rstrip("=")


@dataclass
class Subscription:
    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url_encode(point)

    @property
    def auth(self) -> str:
        return b64url_encode(self.auth_secret)

    def as_device(self, platform: str = "web") -> dict:
        return {"platform": platform, "token": self.endpoint, "p256dh": self.p256dh, "auth": self.auth}


@dataclass
class StoredMessage:
    id: str
    topic: str | None
    ttl: int
    urgency: str | None
    body: bytes
    vapid_sub: str


@dataclass
class FakePushService:
    response_delay: float = 0.0
    subscriptions: dict = field(default_factory=dict)
    messages: dict = field(default_factory=dict)  # token -> [StoredMessage]
    gone: set = field(default_factory=set)
    requests: int = 0
    refused: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()
        self._faults: deque[int] = deque()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> "FakePushService":
        service = self

        class Handler(_Handler):
            fake = service

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def subscribe(self) -> Subscription:
        """A new subscription, as a browser's PushManager.subscribe() would get one."""
        token = secrets.token_urlsafe(24)
        subscription = Subscription(
            token=token,
            endpoint=f"{self.base_url}/push/{token}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
        )
        self.subscriptions[token] = subscription
        return subscription

    def fail_next(self, status: int, *, times: int = 1) -> None:
        with self._lock:
            self._faults.extend([status] * times)

    def stored(self, subscription: Subscription) -> list[StoredMessage]:
        with self._lock:
            return list(self.messages.get(subscription.token, []))

    def delivered(self, subscription: Subscription) -> list[dict]:
        """What the device would decrypt: each stored message's JSON payload."""
        return [
            json.loads(
                http_ece.decrypt(
                    message.body,
                    private_key=subscription.private_key,
                    auth_secret=subscription.auth_secret,
                    version="aes128gcm",
                )
            )
            for message in self.stored(subscription)
        ]

    def _vapid_ok(self, header: str | None) -> str | None:
        """The JWT's `sub` when the VAPID header is valid for this service, else None."""
        if not header or not header.lower().startswith("vapid "):
            return None
        params = dict(part.strip().split("=", 1) for part in header[6:].split(",") if "=" in part)
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(params["k"]))
            signing_input, _dot, signature = params["t"].rpartition(".")
            raw = b64url_decode(signature)
            der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            key.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
            claims = json.loads(b64url_decode(signing_input.split(".")[1]))
        except (KeyError, ValueError, InvalidSignature):
            return None
        if claims.get("aud") != self.base_url or int(claims.get("exp", 0)) <= time.time() or not claims.get("sub"):
            return None
        return claims["sub"]

    def _receive(self, token: str, headers, body: bytes) -> tuple[int, dict]:
        with self._lock:
            self.requests += 1
            fault = self._faults.popleft() if self._faults else None
        sub = self._vapid_ok(headers.get("Authorization"))
        if sub is None:
            self.refused += 1
            return 401, {}
        if token in self.gone or token not in self.subscriptions:
            return 410, {}
        if fault is not None:
            return fault, {}
        if headers.get("Content-Encoding") != "aes128gcm" or headers.get("TTL") is None:
            return 400, {}
        message = StoredMessage(
            id=uuid.uuid4().hex,
            topic=headers.get("Topic"),
            ttl=int(headers["TTL"]),
            urgency=headers.get("Urgency"),
            body=body,
            vapid_sub=sub,
        )
        with self._lock:
            stored = self.messages.setdefault(token, [])
            # RFC 8030 5.4: a message with the topic of one not yet delivered replaces it.
            stored[:] = [m for m in stored if message.topic is None or m.topic != message.topic]
            stored.append(message)
        if self.response_delay:
            time.sleep(self.response_delay)
        return 201, {"Location": f"{self.base_url}/message/{message.id}"}


class _Handler(BaseHTTPRequestHandler):
    fake: FakePushService

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def do_POST(self):  # noqa: N802 - the stdlib's name
        match = PUSH_PATH.match(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if match is None:
            status, headers = 404, {}
        else:
            status, headers = self.fake._receive(match["token"], self.headers, body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()
