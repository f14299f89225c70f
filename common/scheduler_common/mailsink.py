"""An SMTP server for `nox -s serve` that prints each mail it is given and delivers none: the
mail a unit's background worker sends shows up in the terminal that serves the app."""

from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

from scheduler_common.localdb import free_port

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


@contextmanager
def printing_smtp_sink() -> Iterator[int]:
    """Serve SMTP on a free port of 127.0.0.1 while the block runs; yields the port."""
    controller = Controller(PrintingHandler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()
