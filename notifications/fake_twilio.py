"""A fake Twilio Messages API on 127.0.0.1 that the real `twilio` SDK talks to over HTTP.

It implements what our channel calls (create, fetch and list on /2010-04-01/Accounts/{sid}/Messages),
checks HTTP basic auth, records every message, answers scripted faults (429, 500, permanent error
codes, "500 after the message was created") from a queue, and posts status callbacks signed with
the auth token exactly as Twilio does (X-Twilio-Signature), to the message's StatusCallback URL.

    fake = FakeTwilio(auto_callbacks=True).start()
    settings: TWILIO_API_BASE_URL=fake.base_url, TWILIO_ACCOUNT_SID=fake.account_sid,
              TWILIO_AUTH_TOKEN=fake.auth_token
    fake.fail_next(500, times=3); fake.fail_next(400, code=21211)
    fake.stop()

`manage.py run_fake_twilio` runs one standalone (the embedded default and the demo use it).
"""

import json
import logging
import queue
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from base64 import b64decode
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)

MESSAGES_PATH = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>[A-Za-z0-9]+)/Messages(?:/(?P<sid>[A-Za-z0-9]+))?\.json$"
)

ERROR_MESSAGES = {
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


@dataclass
class Fault:
    status: int
    code: int | None = None
    # True: the message is created and sent, but the answer is a 5xx (a lost response).
    after_create: bool = False


@dataclass
class FakeMessage:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    date_created: datetime
    status: str = "queued"
    callbacks: list = field(default_factory=list)

    def as_json(self, account_sid: str) -> dict:
        created = format_datetime(self.date_created, usegmt=True)
        return {
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "body": self.body,
            "date_created": created,
            "date_sent": created if self.status != "queued" else None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {},
            "to": self.to,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{self.sid}.json",
        }


class FakeTwilio:
    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        auto_callbacks: bool = False,
        callback_delay: float = 0.0,
        response_delay: float = 0.0,
        port: int = 0,
    ):
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.auto_callbacks = auto_callbacks
        # Seconds between creating a message and posting its callbacks (Twilio's are not instant).
        self.callback_delay = callback_delay
        # Seconds between recording a message and answering: widens the window in which a client
        # that dies has sent a message without learning its SID.
        self.response_delay = response_delay
        self.port = port
        self.messages: list[FakeMessage] = []
        self.create_requests = 0
        self.create_requests_to: Counter = Counter()
        self.faults_answered: dict[int, int] = {}
        self.callbacks_posted = 0
        self.invalid_numbers: set[str] = set()
        self.unsubscribed_numbers: set[str] = set()
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._callbacks: queue.Queue = queue.Queue()
        self._release_callbacks = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> "FakeTwilio":
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="fake-twilio", daemon=True).start()
        threading.Thread(target=self._callback_loop, name="fake-twilio-callbacks", daemon=True).start()
        return self

    def stop(self) -> None:
        self._callbacks.put(None)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- scripting ----------------------------------------------------------------------------

    def fail_next(self, status: int, *, code: int | None = None, times: int = 1, after_create: bool = False) -> None:
        """Answer the next `times` create requests with this fault."""
        with self._lock:
            for _ in range(times):
                self._faults.append(Fault(status=status, code=code, after_create=after_create))

    def sent_to(self, to: str) -> list[FakeMessage]:
        with self._lock:
            return [message for message in self.messages if message.to == to]

    def bodies(self) -> list[str]:
        with self._lock:
            return [message.body for message in self.messages]

    # -- status callbacks ---------------------------------------------------------------------

    def release_callbacks(self) -> None:
        """Post every queued callback now, without waiting for its delay."""
        self._release_callbacks.set()

    def signed(self, url: str, params: dict) -> str:
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def callback_params(self, message: FakeMessage, status: str, error_code: str | None = None) -> dict:
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message.from_,
            "MessageSid": message.sid,
            "MessageStatus": status,
            "SmsSid": message.sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if error_code:
            params["ErrorCode"] = error_code
        return params

    def post_status_callback(self, message: FakeMessage, status: str, *, url: str | None = None) -> int:
        """POST a signed status callback the way Twilio does; returns the HTTP status."""
        url = url or message.status_callback
        if not url:
            return 0
        params = self.callback_params(message, status)
        request = urllib.request.Request(  # noqa: S310 - the URL is our own StatusCallback
            url,
            data=urlencode(params).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": self.signed(url, params),
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                answered = response.status
        except urllib.error.HTTPError as exc:
            answered = exc.code
        except OSError:
            answered = 0
        with self._lock:
            self.callbacks_posted += 1
            message.callbacks.append((status, answered))
        return answered

    def _callback_loop(self) -> None:
        while True:
            item = self._callbacks.get()
            if item is None:
                return
            due, message = item
            self._release_callbacks.wait(timeout=max(0.0, due - time.monotonic()))
            for status in ("sent", "delivered"):
                message.status = status
                self.post_status_callback(message, status)

    # -- request handling ---------------------------------------------------------------------

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return secrets.compare_digest(user, self.account_sid) and secrets.compare_digest(password, self.auth_token)

    def _create(self, form: dict) -> tuple[int, dict]:
        to, from_, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        bare = to.removeprefix("whatsapp:")
        with self._lock:
            self.create_requests += 1
            self.create_requests_to[to] += 1
        # Numbers that can never receive answer their permanent error first and draw no scripted fault.
        if not to or not body or not from_:
            return 400, _error(400, 21604 if not to else 21602)
        if bare in self.invalid_numbers:
            return 400, _error(400, 21211)
        if bare in self.unsubscribed_numbers:
            return 400, _error(400, 21610)
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            if fault is not None:
                self.faults_answered[fault.status] = self.faults_answered.get(fault.status, 0) + 1
        if fault is not None and not fault.after_create:
            return fault.status, _error(fault.status, fault.code)
        message = FakeMessage(
            sid="SM" + secrets.token_hex(16),
            to=to,
            from_=from_,
            body=body,
            status_callback=form.get("StatusCallback"),
            date_created=datetime.now(UTC).replace(microsecond=0),
        )
        with self._lock:
            self.messages.append(message)
        if self.auto_callbacks and message.status_callback:
            self._callbacks.put((time.monotonic() + self.callback_delay, message))
        if self.response_delay:
            time.sleep(self.response_delay)
        if fault is not None:
            return fault.status, _error(fault.status, fault.code)
        return 201, message.as_json(self.account_sid)

    def _fetch(self, sid: str) -> tuple[int, dict]:
        with self._lock:
            found = next((message for message in self.messages if message.sid == sid), None)
        if found is None:
            return 404, _error(404, 20404)
        return 200, found.as_json(self.account_sid)

    def _list(self, path: str, query: dict) -> tuple[int, dict]:
        def one(name):
            return query.get(name, [None])[0]

        to, from_ = one("To"), one("From")
        after, before = _parse_date(one("DateSent>")), _parse_date(one("DateSent<"))
        page_size = int(one("PageSize") or 50)
        with self._lock:
            found = [
                message
                for message in reversed(self.messages)
                if (to is None or message.to == to)
                and (from_ is None or message.from_ == from_)
                and (after is None or message.date_created >= after)
                and (before is None or message.date_created < before)
            ][:page_size]
        return 200, {
            "messages": [message.as_json(self.account_sid) for message in found],
            "end": max(len(found) - 1, 0),
            "first_page_uri": path,
            "next_page_uri": None,
            "page": 0,
            "page_size": page_size,
            "previous_page_uri": None,
            "start": 0,
            "uri": path,
        }


def _error(status: int, code: int | None) -> dict:
    code = code or {429: 20429}.get(status, 20500 if status >= 500 else status)
    return {
        "code": code,
        "message": ERROR_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeTwilio

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        return  # quiet: request lines hold phone numbers

    def _answer(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _route(self):
        parsed = urlparse(self.path)
        match = MESSAGES_PATH.match(parsed.path)
        fake = self.server_fake
        if match is None:
            return None, parsed, 404
        if match["account"] != fake.account_sid or not fake._authorized(self.headers.get("Authorization")):
            return None, parsed, 401
        return match, parsed, 200

    def do_POST(self):  # noqa: N802 - the stdlib's name
        match, parsed, status = self._route()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        if status != 200:
            return self._answer(status, _error(status, 20003 if status == 401 else 20404))
        if match["sid"]:
            return self._answer(405, _error(405, 20004))
        form = {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        self._answer(*self.server_fake._create(form))

    def do_GET(self):  # noqa: N802 - the stdlib's name
        match, parsed, status = self._route()
        if status != 200:
            return self._answer(status, _error(status, 20003 if status == 401 else 20404))
        if match["sid"]:
            return self._answer(*self.server_fake._fetch(match["sid"]))
        self._answer(*self.server_fake._list(parsed.path, parse_qs(parsed.query)))
