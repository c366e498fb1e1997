"""Sending e-mail: the one module that talks SMTP."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailSettings:
    """Where and as whom to send (configured with EXCHANGE_SMTP_HOST, _PORT and _FROM)."""

    host: str
    port: int = 25
    sender: str = "practice-exchange@localhost"
    timeout: float = 10.0


def send(settings: MailSettings, to: str, subject: str, text: str) -> bool:
    """Send one plain-text message; False (logged) when the server cannot take it."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            smtp.send_message(message)
        return True
    except (OSError, smtplib.SMTPException) as error:
        log.warning("could not send mail to %r: %r", to, error)
        return False
