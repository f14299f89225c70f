"""An SMTP server for `nox -s serve` that prints each mail it is given and delivers none: the
mail a unit's background worker sends shows up in the terminal that serves the app."""

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

SMTP_OK = 250


class PrintingHandler:
    """The aiosmtpd handler: print the mail's headers that matter and its text, then accept."""

    async def handle_DATA(self, server, session, envelope) -> str:
        """Print one mail and accept it."""
        mail = message_from_bytes(envelope.original_content, policy=policy.default)
        body = mail.get_body(preferencelist=("plain",))
        text = body.get_content() if body else ""
        to = ", ".join(envelope.rcpt_tos)
        print(f"\n--- Mail to {to}: {mail['Subject']}\n{text.rstrip()}\n---", flush=True)
        return f"{SMTP_OK} Printed"


def free_port(host: str) -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def printing_smtp_sink(host: str = "127.0.0.1") -> Iterator[int]:
    """Serve SMTP on a free port of `host` while the block runs; yields the port."""
    controller = Controller(PrintingHandler(), hostname=host, port=free_port(host))
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()
