"""A real SMTP server in the test process (aiosmtpd), which keeps every message it receives.

Tests read what it received, make it refuse (`refuse_with`), or make it hold a session at a
chosen step until told to go on (`hold`), to kill a worker at exactly that point.
"""

import asyncio
import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller

HOLD_TIMEOUT = 60  # seconds a held session waits at most, so a test never hangs on it


@dataclass
class Hold:
    """A session to hold: `reached` is set when it gets there, and it waits for `release`."""

    step: str  # "RCPT": before the server has the message; "DATA": after it has it
    recipient: str
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class Sink:
    """aiosmtpd's handler: keeps each message; refuses or holds as the test says."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.holds: list[Hold] = []
        self.refusal: str | None = None
        self.received = threading.Condition()
        self.port = 0  # the fixture sets it once the server listens

    def refuse_with(self, answer: str | None) -> None:
        """Answer every RCPT with `answer` (e.g. "450 try later"); None accepts again."""
        self.refusal = answer

    def hold(self, step: str, recipient: str) -> Hold:
        """Hold the session to `recipient` at `step` until the test releases it."""
        held = Hold(step, recipient)
        self.holds.append(held)
        return held

    async def handle_RCPT(self, _server, _session, envelope, address, _options):  # noqa: N802
        """Accept (or refuse) one recipient, after any hold at this step."""
        await self.wait_if_held("RCPT", address)
        if self.refusal:
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802
        """Keep the message, then (after any hold) say so: a hold here is the window in
        which the server has the mail but its client has not heard."""
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.received:
            self.messages.append(message)
            self.received.notify_all()
        for recipient in envelope.rcpt_tos:
            await self.wait_if_held("DATA", recipient)
        return "250 Message accepted for delivery"

    async def wait_if_held(self, step: str, recipient: str) -> None:
        """Wait, without blocking the server's other sessions, while a hold applies."""
        for held in self.holds:
            if held.step == step and held.recipient == recipient and not held.release.is_set():
                held.reached.set()
                await asyncio.to_thread(held.release.wait, HOLD_TIMEOUT)

    def to(self, recipient: str) -> list[EmailMessage]:
        """The messages received for `recipient`, in order."""
        return [message for message in self.messages if message["To"] == recipient]

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        """Wait (bounded) until `count` messages have arrived; return them all."""
        with self.received:
            arrived = self.received.wait_for(lambda: len(self.messages) >= count, timeout)
        assert arrived, f"{len(self.messages)} of {count} messages arrived in {timeout} s"
        return self.messages


class SinkController(Controller):
    """aiosmtpd's threaded server on a port the system chooses (port 0)."""

    def _trigger_server(self) -> None:
        """Learn the chosen port before aiosmtpd's first connection to itself."""
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()
