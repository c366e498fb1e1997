"""Sending e-mail: the one module that talks SMTP.

A connection is encrypted unless the settings say ``off``. ``starttls`` (the default, port 587)
upgrades the connection before anything else is said and gives up, sending nothing, when the server
does not offer STARTTLS; ``ssl`` speaks TLS from the first byte (port 465); ``off`` sends in the clear
(port 25) and then never signs in, so a password never crosses an unencrypted connection. The
server's certificate and host name are verified against the system's trust store, or against the
CA file of the settings instead. A failure is logged and never raised: mail is a courtesy that must
not undo the event it reports (``deliver`` says which messages failed and why, for the job runner to try
them again). Nothing here runs in a web request: the job runner sends. The password is never logged.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from email.message import EmailMessage
from typing import Any

log = logging.getLogger(__name__)

# The value of EXCHANGE_SMTP_TLS and the port each mode uses when EXCHANGE_SMTP_PORT is not set.
STANDARD_PORTS = {"starttls": 587, "ssl": 465, "off": 25}


@dataclass(frozen=True)
class MailSettings:
    """Where, how and as whom to send (the EXCHANGE_SMTP_* settings; see ``settings_from``)."""

    host: str
    port: int | None = None  # None: the standard port of the TLS mode
    sender: str = "practice-exchange@localhost"
    tls: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None  # None: the system's trust store
    # Links in a message are made absolute against this (EXCHANGE_BASE_URL), never the request's Host.
    base_url: str = "http://127.0.0.1:5000"
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.tls not in STANDARD_PORTS:
            raise ValueError(f"EXCHANGE_SMTP_TLS is {self.tls!r}; it must be one of {', '.join(STANDARD_PORTS)}")

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) to connect to."""
        return self.host, self.port or STANDARD_PORTS[self.tls]


@dataclass(frozen=True)
class Message:
    """One plain-text e-mail to one person."""

    to: str
    subject: str
    text: str


def settings_from(config: Mapping[str, Any], environ: Mapping[str, str]) -> MailSettings | None:
    """Settings from the app's config (``SMTP_HOST``, …) or else the environment (``EXCHANGE_SMTP_HOST``, …).

    None when no host is set: the library then sends no e-mail. Keys, config first:
    ``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_TLS`` (starttls | ssl | off), ``SMTP_USER``, ``SMTP_PASSWORD``,
    ``SMTP_CA_FILE`` and ``MAIL_FROM``, each also read as ``EXCHANGE_`` + key from the environment;
    the link base is the config's ``EXCHANGE_BASE_URL``. A malformed port or TLS mode raises ValueError.
    """

    def setting(key: str) -> str | None:
        value = config.get(key) or environ.get(f"EXCHANGE_{key}")
        return str(value) if value not in (None, "") else None

    host = setting("SMTP_HOST")
    if not host:
        return None
    port = setting("SMTP_PORT")
    if port is not None and not port.isdigit():
        raise ValueError(f"EXCHANGE_SMTP_PORT is {port!r}; it must be a port number")
    return MailSettings(
        host=host,
        port=int(port) if port else None,
        sender=setting("MAIL_FROM") or MailSettings.sender,
        tls=(setting("SMTP_TLS") or MailSettings.tls).strip().lower(),
        user=setting("SMTP_USER"),
        password=setting("SMTP_PASSWORD"),
        ca_file=setting("SMTP_CA_FILE"),
        base_url=str(config.get("EXCHANGE_BASE_URL") or MailSettings.base_url),
    )


def send(settings: MailSettings, to: str, subject: str, text: str) -> bool:
    """Send one plain-text message; False (logged) when it could not be sent."""
    return send_all(settings, [Message(to, subject, text)]) == 1


def send_all(settings: MailSettings, messages: Sequence[Message]) -> int:
    """Send ``messages`` over one connection; how many the server accepted (every failure is logged)."""
    return sum(error is None for error in deliver(settings, messages))


def deliver(settings: MailSettings, messages: Sequence[Message]) -> list[str | None]:
    """Send ``messages`` over one connection; for each in order, None if the server accepted it, else why not.

    Every failure is logged as well.
    """
    if not messages:
        return []
    host, port = settings.address
    if settings.user and settings.tls == "off":
        log.error("mail to %r not sent: EXCHANGE_SMTP_USER is set but EXCHANGE_SMTP_TLS is off, and the "
                  "password is never sent over an unencrypted connection; set EXCHANGE_SMTP_TLS to "
                  "starttls or ssl", [message.to for message in messages])
        return ["not sent: EXCHANGE_SMTP_USER is set but EXCHANGE_SMTP_TLS is off"] * len(messages)
    outcomes: list[str | None] = [None] * len(messages)
    accepted: list[str] = []
    done = 0  # messages the server has answered for
    step = "connecting to"
    try:
        context = ssl.create_default_context(cafile=settings.ca_file) if settings.tls != "off" else None
        if settings.tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=settings.timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=settings.timeout)
        with smtp:
            if settings.tls == "starttls":
                step = "starting TLS with"
                smtp.starttls(context=context)  # raises when not offered: never falls back to plain text
            if settings.user:
                step = f"signing in as {settings.user!r} to"
                smtp.login(settings.user, settings.password or "")
            step = "sending to"
            while done < len(messages):
                message = messages[done]
                try:
                    smtp.send_message(_compose(settings, message))
                    accepted.append(message.to)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
                    log.warning("mail %r to %r not sent: %s:%d refused it: %r",
                                message.subject, message.to, host, port, error)
                    outcomes[done] = f"{host}:{port} refused it: {error!r}"
                done += 1  # reached unless the connection failed: then it is reported below
    except (OSError, smtplib.SMTPException) as error:
        if done < len(messages):  # (a failure after the last message, such as QUIT's, loses nothing)
            log.warning("mail to %r not sent: %s %s:%d (tls %s) failed: %r",
                        [message.to for message in messages[done:]], step, host, port, settings.tls, error)
            outcomes[done:] = [f"{step} {host}:{port} (tls {settings.tls}) failed: {error!r}"] * (len(messages) - done)
    if accepted:
        log.info("mail sent to %r via %s:%d", accepted, host, port)
    return outcomes


def _compose(settings: MailSettings, message: Message) -> EmailMessage:
    email = EmailMessage()
    email["From"] = settings.sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email.set_content(message.text)
    return email
