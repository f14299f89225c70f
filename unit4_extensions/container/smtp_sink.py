"""An SMTP server that delivers nowhere: each mail it accepts becomes a file in SPOOL, named
by the order it arrived in (`smtp-sink.Dockerfile`'s image runs it).

    python smtp_sink.py            # serve on 0.0.0.0:1025 until stopped
    python smtp_sink.py --check    # exit 0 if the sink answers SMTP (the health check)
"""

import asyncio
import itertools
import signal
import smtplib
import sys
from pathlib import Path

from aiosmtpd.controller import Controller

SPOOL = Path("/var/spool/sink")
PORT = 1025
SMTP_OK = 250


class Spool:
    """The aiosmtpd handler: write each accepted mail, envelope recipients first, to a file."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.numbers = itertools.count(len(list(folder.glob("*.eml"))) + 1)

    async def handle_DATA(self, _server, _session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        """Keep the mail, then accept it: a 250 only for what is on disk."""
        path = self.folder / f"{next(self.numbers):06d}.eml"
        recipients = "".join(f"X-Envelope-To: {to}\r\n" for to in envelope.rcpt_tos)
        path.write_bytes(recipients.encode() + envelope.original_content)
        return f"{SMTP_OK} Message accepted for delivery"


def serve() -> None:
    """Serve until SIGTERM or SIGINT."""
    # Every interface: in its container, the sink is reached from the worker's.
    controller = Controller(Spool(SPOOL), hostname="0.0.0.0", port=PORT)
    controller.start()
    print(f"SMTP sink on port {PORT}, keeping mail in {SPOOL}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


def answers() -> bool:
    """Whether the sink greets an SMTP client and answers NOOP."""
    try:
        with smtplib.SMTP("127.0.0.1", PORT, timeout=3) as client:
            return client.noop()[0] == SMTP_OK
    except OSError:
        return False


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if answers() else 1)
    serve()
