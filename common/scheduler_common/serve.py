"""Run a unit's app with seed data, on a throwaway PostgreSQL unless DATABASE_URL is set.

    python -m scheduler_common.serve [--host 127.0.0.1] [--port 5000] [--scale 1]

This is what `nox -s serve` runs: a newcomer needs no database set-up at all.
"""

import argparse
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import psycopg
from flask import Flask
from psycopg import sql

from scheduler_common.localdb import running_postgres
from scheduler_common.seed import DEV_ADMIN_EMAIL, DEV_PASSWORD, MAX_SCALE, seed_database

DATABASE = "scheduler"
WORKER_STOP_TIMEOUT = 40  # seconds a worker may take to finish its jobs after SIGTERM
NOX_USAGE = """\
through nox (from the repository root):
  nox -s serve -- [UNIT | --unit UNIT] [options]
  UNIT is a unit folder (e.g. unit1_data_api); the newest unit when none is named.
"""


class PortInUse(Exception):
    """The address to serve on is taken: another server, or an earlier serve still running."""


def check_port_free(host: str, port: int) -> None:
    """Fail now, before a database is made, if nothing could listen on host:port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As the server itself will: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortInUse(
                f"Cannot serve on {host}:{port} ({error.strerror}): choose another port, "
                f"e.g. `nox -s serve -- --port {port + 1}`."
            ) from None


def prepare_local_database(
    stack: ExitStack, create_schema: Callable[[psycopg.Connection], None], scale: int
) -> str:
    """Start a throwaway server for the life of `stack`, load schema and seed; return its URL."""
    server = stack.enter_context(running_postgres())
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    url = server.url(DATABASE)
    with psycopg.connect(url) as conn:
        create_schema(conn)
        # The published password is harmless here: nobody else reaches this database.
        counts = seed_database(conn, scale=scale, dev_accounts=True)
    print(f"Throwaway PostgreSQL at {url}, seeded with {counts}.", flush=True)
    if counts.accounts:
        print(
            f"Log in as {DEV_ADMIN_EMAIL} (or any seeded person's email) "
            f"with the password {DEV_PASSWORD!r}.",
            flush=True,
        )
    return url


def unit_command(app: Flask, name: str) -> list[str]:
    """The argv of one of the app's `flask` commands, run with this environment's flask."""
    flask = Path(sys.executable).with_name("flask")  # this environment's, not one on PATH
    # The package by its path, not its name: the command must find this unit from any folder.
    return [str(flask), "--app", app.root_path, name]


def start_worker(stack: ExitStack, app: Flask) -> None:
    """Run the unit's background worker beside the app for the life of `stack`, where the
    unit has one; unless SMTP_HOST names a mail server, the mail it sends is printed here."""
    if "worker" not in app.cli.commands:
        return
    if not os.environ.get("SMTP_HOST"):
        # Here, not at the top: only a unit with a worker needs aiosmtpd (common[serve]).
        from scheduler_common.mailsink import printing_smtp_sink

        port = stack.enter_context(printing_smtp_sink())
        os.environ.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_SECURITY="none")
        print(f"Mail the worker sends is printed here (an SMTP sink on port {port}).", flush=True)
    worker = subprocess.Popen(unit_command(app, "worker"))
    stack.callback(stop_worker, worker)
    print(f"Background worker started (process {worker.pid}).", flush=True)


def stop_worker(worker: subprocess.Popen) -> None:
    """Ask the worker to finish its jobs and stop; kill it if it takes too long."""
    worker.terminate()
    try:
        worker.wait(WORKER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def outbox_command(app: Flask, throwaway: bool) -> str | None:
    """The shell command that reads the app's outbox from another terminal, where it has one."""
    if "outbox" not in app.cli.commands:
        return None
    command = shlex.join(unit_command(app, "outbox"))
    if not throwaway:
        return f"{command}  (with the same DATABASE_URL and SECRET_KEY)"
    settings = " ".join(
        f"{name}={shlex.quote(os.environ[name])}" for name in ("DATABASE_URL", "SECRET_KEY")
    )
    return f"env {settings} {command}"


def stop_on_signal(signum: int, _frame) -> None:
    """Leave through the normal exit path, so that the throwaway server is removed."""
    # A second Ctrl+C, or the SIGTERM nox sends after it, must not cut the cleanup short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print(f"\nStopping ({signal.Signals(signum).name}).", flush=True)
    sys.exit(0)


def main() -> None:
    """Parse the options, prepare the database and serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m scheduler_common.serve",
        description=__doc__.splitlines()[0],
        epilog=NOX_USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on")
    parser.add_argument("--port", type=int, default=5000, help="port to serve on")
    parser.add_argument(
        "--scale",
        type=int,
        default=1,
        choices=range(1, MAX_SCALE + 1),
        metavar=f"1..{MAX_SCALE}",
        help="seed data multiplier",
    )
    args = parser.parse_args()
    try:
        check_port_free(args.host, args.port)
    except PortInUse as error:
        parser.exit(1, f"{error}\n")

    import scheduler  # the unit installed in this environment

    # Stopped by Ctrl+C or a supervisor's SIGTERM: still stop and remove the throwaway server.
    signal.signal(signal.SIGINT, stop_on_signal)
    signal.signal(signal.SIGTERM, stop_on_signal)

    with ExitStack() as stack:
        throwaway = not os.environ.get("DATABASE_URL")
        if throwaway:
            os.environ["DATABASE_URL"] = prepare_local_database(
                stack, scheduler.create_schema, args.scale
            )
            # A throwaway key for a throwaway database (units that sign tokens need one).
            os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
        app = scheduler.create_app()
        start_worker(stack, app)
        url = f"http://{args.host}:{args.port}/api/v1"
        print(f"Serving the API at {url} (try {url}/health); Ctrl+C stops.", flush=True)
        if command := outbox_command(app, throwaway):
            print(f"Read the mail it queues (verification tokens) in another shell:\n  {command}")
            print("  (add --to ADDRESS, or --token to print only the newest token)", flush=True)
        app.run(host=args.host, port=args.port, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
