"""Slow clients against gunicorn: `-w 4` sync workers next to the gthread settings of the
unit's gunicorn.conf.py, on a throwaway seeded PostgreSQL like the one `nox -s serve` makes.

    python benchmarks/slow_clients.py                      # the unit installed, 8 slow clients
    python benchmarks/slow_clients.py --slow-clients 40 --hold 20

For each configuration: start gunicorn, time a normal GET /api/v1/courses, then open
`--slow-clients` connections that send their request headers one byte every `--drip` seconds
for `--hold` seconds (as a slowloris attacker or a very bad network would), and time the same
normal request while they drip. Results from a run are in slow_clients.md beside this file.
"""

import argparse
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, closing
from pathlib import Path

from scheduler_common.localdb import free_port
from scheduler_common.serve import prepare_local_database

ROOT = Path(__file__).resolve().parent.parent
PATH = "/api/v1/courses"
READY_TIMEOUT = 60  # seconds for gunicorn to answer /health at all
REQUEST_TIMEOUT = 120  # seconds a timed request may take; a stalled server shows as ~hold


def timed_get(port: int, path: str = PATH) -> tuple[float, int]:
    """GET `path` over a fresh connection; return (seconds taken, status)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return time.perf_counter() - started, response.status
    finally:
        connection.close()


def wait_until_ready(port: int) -> None:
    """Poll /health until gunicorn answers 200, or give up after READY_TIMEOUT seconds."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if timed_get(port, "/api/v1/health")[1] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer on port {port} within {READY_TIMEOUT} s.")


def drip_request(port: int, drip: float, hold: float) -> None:
    """Send one GET whose headers arrive a byte every `drip` seconds for `hold` seconds."""
    with closing(socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT)) as sock:
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ")
        deadline = time.monotonic() + hold
        while time.monotonic() < deadline:
            sock.sendall(b"a")
            time.sleep(drip)
        sock.sendall(b"\r\nConnection: close\r\n\r\n")
        while sock.recv(65536):
            pass


def measure(command: list[str], cwd: Path, env: dict, port: int, args) -> dict:
    """Start gunicorn with `command`; time normal requests without and with slow clients."""
    server = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_ready(port)
        baseline = statistics.median(timed_get(port)[0] for _ in range(5))
        slow = [
            threading.Thread(target=drip_request, args=(port, args.drip, args.hold), daemon=True)
            for _ in range(args.slow_clients)
        ]
        for thread in slow:
            thread.start()
        time.sleep(1)  # every slow client has connected and started its headers
        during, status = timed_get(port)
        for thread in slow:
            thread.join(REQUEST_TIMEOUT)
        return {"baseline": baseline, "during": during, "status": status}
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    """Parse the options, prepare the database, measure both configurations, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow-clients", type=int, default=8)
    parser.add_argument("--drip", type=float, default=0.5, help="seconds between header bytes")
    parser.add_argument("--hold", type=float, default=20.0, help="seconds each slow client lasts")
    args = parser.parse_args()

    import scheduler  # the unit installed in this environment

    unit_dir = Path(scheduler.__file__).resolve().parent.parent
    gunicorn = [sys.executable, "-m", "gunicorn"]
    with ExitStack() as stack:
        env = {
            **os.environ,
            "DATABASE_URL": prepare_local_database(stack, scheduler.create_schema, scale=1),
            "SECRET_KEY": secrets.token_urlsafe(48),
        }
        port = free_port()
        configurations = {
            # --config /dev/null: the README's old command alone, not the unit's file.
            "sync, -w 4": [
                *gunicorn,
                "--config",
                "/dev/null",
                "-w",
                "4",
                "-b",
                f"127.0.0.1:{port}",
                "scheduler:create_app()",
            ],
            "gthread (gunicorn.conf.py)": gunicorn,
        }
        print(
            f"{unit_dir.name}: {args.slow_clients} slow clients, a header byte every "
            f"{args.drip} s for {args.hold} s; GET {PATH}\n"
        )
        print("| gunicorn | normal request, alone | with the slow clients | status |")
        print("|---|---|---|---|")
        for name, command in configurations.items():
            result = measure(command, unit_dir, {**env, "PORT": str(port)}, port, args)
            print(
                f"| {name} | {result['baseline'] * 1000:.0f} ms "
                f"| {result['during'] * 1000:.0f} ms | {result['status']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
