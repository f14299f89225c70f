"""Run a unit's app with seed data, on a throwaway PostgreSQL unless DATABASE_URL is set.

    python -m scheduler_common.serve [--port 5000] [--scale 1]

This is what `nox -s serve` runs: a newcomer needs no database set-up at all.
"""

import argparse
import os
import secrets
import signal
import sys
from collections.abc import Callable
from contextlib import ExitStack

import psycopg
from psycopg import sql

from scheduler_common.localdb import running_postgres
from scheduler_common.seed import DEV_ADMIN_EMAIL, DEV_PASSWORD, MAX_SCALE, seed_database

DATABASE = "scheduler"


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
        counts = seed_database(conn, scale=scale, dev_accounts=True)
    print(f"Throwaway PostgreSQL at {url}, seeded with {counts}.", flush=True)
    if counts.accounts:
        print(
            f"Log in as {DEV_ADMIN_EMAIL} (or any seeded person's email) "
            f"with the password {DEV_PASSWORD!r}.",
            flush=True,
        )
    return url


def main() -> None:
    """Parse the options, prepare the database and serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument(
        "--scale",
        type=int,
        default=1,
        choices=range(1, MAX_SCALE + 1),
        metavar=f"1..{MAX_SCALE}",
        help="seed data multiplier",
    )
    args = parser.parse_args()

    import scheduler  # the unit installed in this environment

    # Stopped by a signal (a supervisor, `kill`), still stop and remove the throwaway server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    with ExitStack() as stack:
        if not os.environ.get("DATABASE_URL"):
            os.environ["DATABASE_URL"] = prepare_local_database(
                stack, scheduler.create_schema, args.scale
            )
            # A throwaway key for a throwaway database (units that sign tokens need one).
            os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
        app = scheduler.create_app()
        url = f"http://{args.host}:{args.port}/api/v1"
        print(f"Serving the API at {url} (try {url}/health); Ctrl+C stops.", flush=True)
        app.run(host=args.host, port=args.port, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
