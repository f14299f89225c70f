"""Fuzz the API against its OpenAPI document with schemathesis, on a live server.

    python tests/fuzz.py [schemathesis options]      # what `nox -s fuzz` runs

A throwaway PostgreSQL with the unit's schema and seed data (prepared exactly as
`nox -s serve` prepares it), the app under gunicorn on a free local port, an admin account made
with `flask create-admin` and logged in, so that schemathesis exercises the protected
operations too. It fails on any server error and on any response the document does not
allow. Options given after the script go to `schemathesis run` and win over the defaults,
e.g. `--max-examples 20` for a bounded CI budget (`--max-time N` instead keeps fuzzing for N s).
"""

import os
import secrets
import socket
import subprocess
import sys
import time
from contextlib import ExitStack

import requests

from scheduler import create_schema
from scheduler_common.serve import prepare_local_database

ADMIN_EMAIL = "fuzz-admin@example.edu"
ADMIN_PASSWORD = secrets.token_urlsafe(16)
# --8<-- [start:checks]
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    # A request the document calls invalid must be refused ...
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
    # ... and what was created can be read back, and what was deleted cannot.
    "ensure_resource_availability",
    "use_after_free",
    # Not positive_data_acceptance ("a schema-valid request succeeds"): some rules are beyond
    # a JSON Schema (a password's length in bytes, a section's capacity within its room's,
    # 4.0 is not an integer to us), so a schema-valid body may still rightly be a 422.
)
# One worker: schemathesis's workers are threads, and on CPython 3.11 before 3.11.8 two threads
# in ast.parse at once (hypothesis parses the source of lambdas to describe them) may fail with
# "SystemError: AST constructor recursion depth mismatch" (cpython#106905).
DEFAULT_OPTIONS = ("--max-examples", "100", "--workers", "1", "--seed", "36")
# --8<-- [end:checks]
STARTUP_SECONDS = 60


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(database_url: str) -> dict[str, str]:
    """The settings of the server under test."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        # One admin token must outlast the whole run.
        "ACCESS_TOKEN_TTL": str(24 * 3600),
        # Fast hashing: the fuzzer registers and logs in many times.
        "BCRYPT_ROUNDS": "4",
    }


def create_admin(env: dict[str, str]) -> None:
    """Make the fuzzer's admin account the way an operator would."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "scheduler", "create-admin", ADMIN_EMAIL],
        input=ADMIN_PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
    )


def start_server(stack: ExitStack, env: dict[str, str], port: int) -> str:
    """Run the app under gunicorn for the life of `stack`; return its API base URL."""
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"),
            *("--workers", "2", "--threads", "4", "--no-control-socket"),
            "scheduler:create_app()",
        ],
        env=env,
    )
    stack.callback(stop, server)
    base_url = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base_url}/health", timeout=5).status_code == 200:
                return base_url
        except requests.RequestException:  # not listening yet, or still opening its pool
            pass
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode} before it served anything")
        time.sleep(0.5)
    sys.exit(f"The server did not answer /health within {STARTUP_SECONDS} s")


def stop(server: subprocess.Popen) -> None:
    """Stop gunicorn (it finishes the requests in flight first)."""
    server.terminate()
    server.wait(timeout=30)


def admin_token(base_url: str) -> str:
    """Log the fuzzer's admin in; return the access token."""
    response = requests.post(
        f"{base_url}/auth/login",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def main() -> int:
    """Prepare the database and the server, run schemathesis, return its exit status."""
    with ExitStack() as stack:
        env = server_environment(prepare_local_database(stack, create_schema, scale=1))
        create_admin(env)
        base_url = start_server(stack, env, free_port())
        command = [
            *(os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run"),
            f"{base_url}/openapi.json",
            *("--header", f"Authorization: Bearer {admin_token(base_url)}"),
            *("--checks", ",".join(CHECKS)),
            *DEFAULT_OPTIONS,
            *sys.argv[1:],
        ]
        return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
