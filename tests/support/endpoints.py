"""Loopback HTTP servers that speak the 企业微信 group robot's and Tencent Cloud SMS's API, for
the notification tests. Each records what it received; ``mode`` decides how it answers.

Modes: ``ok``; ``error`` (the API's own error answer); ``http500``; ``garbage`` (not JSON);
``slow`` (answers after ``delay`` seconds, longer than the client's timeout); ``hold`` (the
first request waits until ``release`` is set, later ones are answered at once).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict
    body: dict | None
    at: float = field(default_factory=time.monotonic)
    path: str = ""  # with its query: which of several callers given their own URL called


class _Endpoint:
    """A threaded HTTP server on 127.0.0.1 with a port of its own."""

    def __init__(self, mode: str = "ok", delay: float = 5.0):
        self.mode = mode
        self.delay = delay
        self.received: list[Received] = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with endpoint._lock:
                    endpoint.received.append(Received(dict(self.headers), body, path=self.path))
                    first = len(endpoint.received) == 1
                endpoint.first_arrived.set()
                status, content_type, payload = endpoint.answer(self, raw, body, first)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout) or was killed

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A short poll: shutdown() at the end of each test returns at once, not after 0.5 s.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _wait(self, first: bool) -> None:
        if self.mode == "slow":
            time.sleep(self.delay)
        elif self.mode == "hold" and first:
            self.release.wait(60)

    def keys(self) -> list[str]:
        return [r.headers.get("X-Idempotency-Key", "") for r in self.received]


class FakeRobot(_Endpoint):
    """A 企业微信 group robot webhook (``/cgi-bin/webhook/send?key=…``)."""

    def answer(self, _handler, _raw, body, first):
        self._wait(first)
        if self.mode == "http500":
            return 500, "text/html", b"<html>502 Bad Gateway</html>"
        if self.mode == "garbage":
            return 200, "text/html", "<html>维护中</html>".encode()
        if self.mode == "error":
            return (
                200,
                "application/json",
                json.dumps({"errcode": 93000, "errmsg": "invalid webhook url"}).encode(),
            )
        if (
            not isinstance(body, dict)
            or body.get("msgtype") not in ("text", "markdown")
            or not body.get(body["msgtype"], {}).get("content")
        ):
            return (
                200,
                "application/json",
                json.dumps({"errcode": 40008, "errmsg": "invalid message type"}).encode(),
            )
        return 200, "application/json", json.dumps({"errcode": 0, "errmsg": "ok"}).encode()

    def texts(self) -> list[str]:
        return [r.body[r.body["msgtype"]]["content"] for r in self.received if r.body]


class FakeTencentSms(_Endpoint):
    """Tencent Cloud SMS (``SendSms``, version 2021-01-11): checks the TC3-HMAC-SHA256
    signature with the shared secret key and answers in the API's shape."""

    def __init__(self, secret_id: str, secret_key: str, **kwargs):
        super().__init__(**kwargs)
        self.secret_id = secret_id
        self.secret_key = secret_key

    def _signature_ok(self, handler, raw: bytes) -> bool:
        auth = handler.headers.get("Authorization", "")
        prefix = f"TC3-HMAC-SHA256 Credential={self.secret_id}/"
        if not auth.startswith(prefix):
            return False
        date, service = auth[len(prefix) :].split("/")[:2]
        canonical = "\n".join(
            [
                "POST",
                "/",
                "",
                f"content-type:{handler.headers['Content-Type']}\nhost:{handler.headers['Host']}\n",
                "content-type;host",
                hashlib.sha256(raw).hexdigest(),
            ]
        )
        to_sign = "\n".join(
            [
                "TC3-HMAC-SHA256",
                handler.headers["X-TC-Timestamp"],
                f"{date}/{service}/tc3_request",
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )

        def mac(key, msg):
            return hmac.new(key, msg.encode(), hashlib.sha256)

        key = mac(
            mac(mac(("TC3" + self.secret_key).encode(), date).digest(), service).digest(),
            "tc3_request",
        ).digest()
        return hmac.compare_digest(auth.rsplit("Signature=", 1)[-1], mac(key, to_sign).hexdigest())

    def answer(self, handler, raw, body, first):
        self._wait(first)
        request_id = str(uuid.uuid4())

        def response(content):
            return 200, "application/json", json.dumps({"Response": content}).encode()

        if self.mode == "http500":
            return 502, "text/html", b"<html>502</html>"
        if self.mode == "garbage":
            return 200, "application/json", b"\x00\xffnot json"
        if (
            handler.headers.get("X-TC-Action") != "SendSms"
            or handler.headers.get("X-TC-Version") != "2021-01-11"
        ):
            return response(
                {
                    "Error": {"Code": "InvalidAction", "Message": "unknown action"},
                    "RequestId": request_id,
                }
            )
        if not self._signature_ok(handler, raw):
            return response(
                {
                    "Error": {
                        "Code": "AuthFailure.SignatureFailure",
                        "Message": "signature mismatch",
                    },
                    "RequestId": request_id,
                }
            )
        if self.mode == "error":
            return response(
                {
                    "Error": {
                        "Code": "FailedOperation.InsufficientBalanceInSmsPackage",
                        "Message": "套餐包余量不足",
                    },
                    "RequestId": request_id,
                }
            )
        code = "LimitExceeded.PhoneNumberDailyLimit" if self.mode == "reject" else "Ok"
        return response(
            {
                "SendStatusSet": [
                    {
                        "SerialNo": uuid.uuid4().hex,
                        "PhoneNumber": number,
                        "Fee": 1,
                        "SessionContext": body.get("SessionContext", ""),
                        "Code": code,
                        "Message": "send success"
                        if code == "Ok"
                        else "单个手机号日下发短信条数超过设定的上限",
                        "IsoCode": "CN",
                    }
                    for number in body.get("PhoneNumberSet", [])
                ],
                "RequestId": request_id,
            }
        )

    def keys(self) -> list[str]:
        return [r.body.get("SessionContext", "") for r in self.received if r.body]

    def params(self) -> list[list[str]]:
        return [r.body.get("TemplateParamSet", []) for r in self.received if r.body]


SMS_SECRET_ID = "AKIDtestsecretid"
SMS_SECRET_KEY = "testsecretkey"


def sms_config(endpoint: FakeTencentSms, templates: str = "*=100001") -> dict:
    """App settings that point the SMS channel at a loopback fake."""
    return {
        "SMS_SECRET_ID": SMS_SECRET_ID,
        "SMS_SECRET_KEY": SMS_SECRET_KEY,
        "SMS_APP_ID": "1400000000",
        "SMS_SIGN_NAME": "示例物业",
        "SMS_TEMPLATES": templates,
        "SMS_ENDPOINT": endpoint.url,
    }


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not true within {timeout} s: {predicate}")
