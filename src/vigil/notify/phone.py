"""SMS and voice calls through a pluggable provider, and email to a person's address.

A provider turns a message into a request to a phone service. The one shipped speaks the
Twilio REST API (``POST /2010-04-01/Accounts/{sid}/Messages.json`` with ``To``, ``From``
and ``Body``; ``.../Calls.json`` with ``To``, ``From`` and ``Twiml`` for a spoken message;
HTTP basic auth with the account SID and auth token), which several providers also accept.
Configure it with ``VIGIL_SMS_API_URL``, ``VIGIL_SMS_ACCOUNT_SID``, ``VIGIL_SMS_AUTH_TOKEN``
and ``VIGIL_SMS_FROM``. Another provider implements :class:`PhoneProvider`.
"""

from __future__ import annotations

import re
from typing import Protocol
from xml.sax.saxutils import escape

import httpx

from vigil.config import Settings
from vigil.errors import ValidationError
from vigil.notify.senders import Answer, Message, one_line, scrub, send_apprise

__all__ = [
    "PhoneProvider",
    "TwilioProvider",
    "check_email",
    "check_phone",
    "provider_for",
    "send_email",
    "send_phone",
]

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_SMS_CHARS = 600


def check_phone(number: str) -> str:
    """The number in E.164 form (``+`` and 7-15 digits), or a 4xx naming the field."""
    cleaned = re.sub(r"[\s().-]", "", number)
    if not _E164.match(cleaned):
        raise ValidationError(
            "address: a phone number in E.164 form, e.g. +4915112345678", field="address"
        )
    return cleaned


def check_email(address: str) -> str:
    """The address if it is a plain ``name@domain``, or a 4xx naming the field."""
    address = address.strip()
    if not _EMAIL.match(address):
        raise ValidationError("address: an email address like ann@example.com", field="address")
    return address


class PhoneProvider(Protocol):
    """Sends an SMS or places a call that reads a message out."""

    def send_sms(self, to: str, text: str) -> Answer: ...
    def call(self, to: str, text: str) -> Answer: ...


class TwilioProvider:
    """The Twilio REST API (or any service that speaks it) over one HTTP client."""

    def __init__(self, settings: Settings, client: httpx.Client) -> None:
        if not (settings.sms_account_sid and settings.sms_auth_token and settings.sms_from):
            raise ValidationError(
                "SMS and voice need VIGIL_SMS_ACCOUNT_SID, VIGIL_SMS_AUTH_TOKEN and VIGIL_SMS_FROM",
                field="kind",
            )
        self.base = settings.sms_api_url.rstrip("/")
        self.sid = settings.sms_account_sid
        self.token = settings.sms_auth_token.get_secret_value()
        self.sender = settings.sms_from
        self.client = client
        self.timeout = settings.notify_timeout_seconds

    def _post(self, what: str, form: dict[str, str]) -> Answer:
        url = f"{self.base}/2010-04-01/Accounts/{self.sid}/{what}.json"
        try:
            reply = self.client.post(
                url, data=form, auth=(self.sid, self.token), timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            return Answer(False, one_line(scrub(f"{type(exc).__name__}: {exc}", url)))
        detail = one_line(f"HTTP {reply.status_code} {reply.text}".replace(self.token, "***"))
        if reply.is_success:
            return Answer(True, detail)
        return Answer(False, detail, retry=reply.status_code >= 500 or reply.status_code == 429)

    def send_sms(self, to: str, text: str) -> Answer:
        """Send ``text`` (cut to a few SMS segments) to ``to``."""
        return self._post("Messages", {"To": to, "From": self.sender, "Body": text[:_SMS_CHARS]})

    def call(self, to: str, text: str) -> Answer:
        """Call ``to`` and read ``text`` out twice."""
        spoken = escape(text[:_SMS_CHARS])
        twiml = f'<Response><Say>{spoken}</Say><Pause length="1"/><Say>{spoken}</Say></Response>'
        return self._post("Calls", {"To": to, "From": self.sender, "Twiml": twiml})


def provider_for(settings: Settings, client: httpx.Client) -> PhoneProvider:
    """The configured phone provider."""
    return TwilioProvider(settings, client)


def _short(message: Message) -> str:
    return f"{message.title}\n{message.body}"


def send_phone(
    kind: str, number: str, message: Message, *, settings: Settings, client: httpx.Client
) -> Answer:
    """Send ``message`` to ``number`` as an SMS (``kind`` sms) or a call (voice)."""
    try:
        provider = provider_for(settings, client)
    except ValidationError as exc:
        return Answer(False, str(exc), retry=False)
    text = _short(message)
    return provider.send_sms(number, text) if kind == "sms" else provider.call(number, text)


def send_email(address: str, message: Message, *, settings: Settings, timeout: float) -> Answer:
    """Send ``message`` to ``address`` through the mail server of ``VIGIL_SMTP_URL``."""
    if settings.smtp_url is None:
        return Answer(False, "email contact methods need VIGIL_SMTP_URL", retry=False)
    base = settings.smtp_url.get_secret_value()
    joiner = "&" if "?" in base else "?"
    url = f"{base}{joiner}to={address}"
    answer = send_apprise(url, message, timeout=timeout)
    return Answer(answer.ok, scrub(answer.detail, base), answer.retry)
