"""Real receivers on loopback that record what arrives: a JSON webhook and an SMTP server."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.server import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Answers ``status`` (200 unless set otherwise) and records every request."""

    url: str
    received: list[Received] = field(default_factory=list)
    status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Builds the JSON answer to a request (a chat API's reply); default {"ok": true}.
    answer: Callable[[Received], Any] | None = None

    def keys(self) -> list[str]:
        with self.lock:
            return [r.headers.get("idempotency-key", "") for r in self.received]

    def delivered(self) -> list[Received]:
        """Requests answered with 2xx, in arrival order."""
        with self.lock:
            return [r for r in self.received if r.headers.get("x-answered") == "2xx"]


def verify_signature(secret: str, request: Received) -> bool:
    """How a receiver checks Vigil's signature (the documented recipe)."""
    stamp = request.headers["x-vigil-timestamp"]
    expected = (
        "v1="
        + hmac.new(
            secret.encode(), stamp.encode() + b"." + request.body, hashlib.sha256
        ).hexdigest()
    )
    return hmac.compare_digest(expected, request.headers["x-vigil-signature"])


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    port = free_port()
    receiver = WebhookReceiver(f"http://127.0.0.1:{port}/hook")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes

        def do_POST(self) -> None:
            size = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(size)
            if len(body) < size:  # the sender died mid-request: nothing to answer
                with receiver.lock:
                    receiver.received.append(
                        Received(self.path, {"x-answered": "incomplete"}, body)
                    )
                return
            status = receiver.status
            headers = {k.lower(): v for k, v in self.headers.items()}
            headers["x-answered"] = "2xx" if status < 300 else str(status)
            request = Received(self.path, headers, body)
            with receiver.lock:
                receiver.received.append(request)
                number = len(receiver.received)
            if status >= 300:
                reply = b'{"error":"down"}'
            elif receiver.answer is not None:
                request.headers["x-number"] = str(number)
                reply = json.dumps(receiver.answer(request)).encode()
            else:
                reply = b'{"ok":true}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    url: str
    messages: list[Message] = field(default_factory=list)


@contextmanager
def smtp_receiver() -> Iterator[Mailbox]:
    """An SMTP server on loopback; ``url`` is the apprise URL that sends to it."""
    port = free_port()
    box = Mailbox(
        f"mailto://127.0.0.1:{port}?from=vigil@example.com&to=oncall@example.com&mode=insecure"
    )

    class Handler:
        async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
            box.messages.append(message_from_bytes(envelope.content))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def text_of(message: Message) -> str:
    """The plain-text body of an email."""
    if message.is_multipart():
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                return str(part.get_payload(decode=True).decode())  # type: ignore[union-attr]
        return ""
    return str(message.get_payload(decode=True).decode())  # type: ignore[union-attr]
