"""Outgoing mail over SMTP (lesson 4.9): an outbox row becomes a message, and the message goes
to the server the settings name (host, port, TLS, login, timeout).

SMTP has no exactly-once: a worker that dies after the server accepted a mail but before its
own commit sends that mail again. Every copy carries the same `Message-ID`, derived from the
outbox id, so a receiver (or a person) can tell the copies for one mail.
"""

import email.utils
import smtplib
import ssl
from email.message import EmailMessage

# SMTP's 4xx answers are transient ("try again later"); 5xx ones are permanent.
TRANSIENT = range(400, 500)


class DeliveryFailed(Exception):
    """The mail was not handed over; the message says what the server or network said."""


class TryLater(DeliveryFailed):
    """A passing failure (no connection, a timeout, a 4xx answer): the same mail may go
    through later."""


class Rejected(DeliveryFailed):
    """The server refused the mail for good (a 5xx answer, a login it does not accept):
    sending it again unchanged would fail again."""


# --8<-- [start:message]
def message_id(outbox_id: int, sender: str) -> str:
    """The mail's `Message-ID`: the same for every attempt at one outbox row, unique across
    rows, in the sender's domain (so it is unique across sites, too)."""
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<outbox-{outbox_id}@{domain}>"


def build_message(mail: dict, sender: str) -> EmailMessage:
    """The message for one outbox row, dated when the mail was written (not when a worker
    got round to it)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail["to_address"]
    message["Subject"] = mail["subject"]
    message["Date"] = email.utils.format_datetime(mail["created_at"])
    message["Message-ID"] = message_id(mail["id"], sender)
    message.set_content(mail["body"])
    return message
    # --8<-- [end:message]


# --8<-- [start:send]
def send(message: EmailMessage, config: dict) -> None:
    """Hand the message to the SMTP server of the settings; raise TryLater or Rejected."""
    try:
        with connect(config) as server:
            if config["SMTP_USERNAME"]:
                server.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            server.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        transient = all(code in TRANSIENT for code, _ in error.recipients.values())
        failure = TryLater if transient else Rejected
        raise failure(f"recipient refused: {describe(error.recipients)}") from error
    except smtplib.SMTPResponseException as error:
        failure = TryLater if error.smtp_code in TRANSIENT else Rejected
        raise failure(f"{error.smtp_code} {answer_text(error.smtp_error)}") from error
    except smtplib.SMTPNotSupportedError as error:  # no STARTTLS, or no AUTH, on offer
        raise Rejected(str(error)) from error
    except OSError as error:  # refused, reset, timed out, TLS failed; smtplib's others too
        raise TryLater(f"{type(error).__name__}: {error}") from error
    # --8<-- [end:send]


def connect(config: dict) -> smtplib.SMTP:
    """An open session with the server, protected as SMTP_SECURITY says; the certificate is
    always verified against the system's trusted authorities (or SSL_CERT_FILE's)."""
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT"]
    security = config["SMTP_SECURITY"]
    if security == "tls":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    server = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if security == "starttls":
            server.starttls(context=ssl.create_default_context())
    except BaseException:
        server.close()
        raise
    return server


def answer_text(answer: bytes | str) -> str:
    """A server's answer as text, whatever bytes it sent."""
    return answer.decode(errors="replace") if isinstance(answer, bytes) else answer


def describe(refusals: dict) -> str:
    """The refused recipients with the server's code and answer for each."""
    return "; ".join(
        f"{address}: {code} {answer_text(answer)}" for address, (code, answer) in refusals.items()
    )
