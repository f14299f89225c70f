"""Run the Postman collection with newman in two stages, as a tester would by hand.

    python postman/run_e2e.py                      # this unit under gunicorn, throwaway database
    python postman/run_e2e.py --base-url URL --token-command "CMD ... {email} ..."

Stage 1 sets up the catalog as the admin and registers students. Then the verification token
is read from the student's mail with the outbox command, as a tester copies it from their
inbox, and stage 2 runs every flow that needs a verified student. The environment is carried
from one stage to the next; JUnit and HTML reports go to postman/reports/. The exit status is
non-zero when any assertion fails. This is what `nox -s e2e` runs.
"""

import argparse
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLLECTION = HERE / "scheduler.postman_collection.json"
ENVIRONMENT = HERE / "scheduler-local.postman_environment.json"
REPORTS = HERE / "reports"
NEWMAN = HERE.parent / "node_modules" / ".bin" / "newman"

ADMIN_EMAIL = "e2e-admin@example.edu"
DATABASE = "scheduler_e2e"
FLASK = [sys.executable, "-m", "flask", "--app", "scheduler"]
LOCAL_TOKEN_COMMAND = shlex.join([*FLASK, "outbox", "--to", "{email}", "--token"])
STARTUP_TIMEOUT = 60  # seconds for gunicorn to answer /health on a busy machine
REQUEST_TIMEOUT_MS = "15000"  # a hung request fails its test instead of hanging the run


@dataclass(frozen=True)
class Stage:
    """One newman run over some of the collection's folders."""

    name: str
    folders: tuple[str, ...]


# --8<-- [start:stages]
STAGES = (
    Stage("1-setup-and-registration", ("1 Catalog set-up (admin)", "2 Registration")),
    Stage(
        "2-verified-flows",
        (
            "3 Verification",
            "4 Login",
            "5 Enrollment",
            "6 Full section",
            "7 Clash",
            "8 Forbidden actions",
            "9 Token refresh and logout",
        ),
    ),
)
# --8<-- [end:stages]


class E2EError(RuntimeError):
    """The run could not go on; the message says why and where to look."""


# --- a local server: throwaway PostgreSQL, an admin account, gunicorn ------------------------


# --8<-- [start:create-database]
def create_database(server) -> str:
    """Create an empty database on the throwaway server with this unit's schema; its URL."""
    import psycopg
    from psycopg import sql

    from scheduler import create_schema

    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    with psycopg.connect(server.url(DATABASE)) as conn:
        create_schema(conn)
    return server.url(DATABASE)
    # --8<-- [end:create-database]


def create_admin(app_env: dict[str, str], email: str, password: str) -> None:
    """Create the admin account the way an operator does: `flask create-admin`."""
    result = subprocess.run(
        [*FLASK, "create-admin", email],
        input=f"{password}\n",
        env=app_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise E2EError(f"flask create-admin failed:\n{result.stdout}{result.stderr}")


# --8<-- [start:gunicorn]
@contextmanager
def running_gunicorn(app_env: dict[str, str], port: int, log_file: Path) -> Iterator[str]:
    """Serve the app with gunicorn (2 gthread workers) until the block ends; its base URL."""
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "gthread"]
    command += ["--threads", "4", "--bind", f"127.0.0.1:{port}", "--access-logfile", "-"]
    with log_file.open("w") as log:
        process = subprocess.Popen(
            [*command, "scheduler:create_app()"], env=app_env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            base_url = f"http://127.0.0.1:{port}/api/v1"
            wait_for_health(base_url, process, log_file)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    # --8<-- [end:gunicorn]


def wait_for_health(base_url: str, process: subprocess.Popen, log_file: Path) -> None:
    """Return once GET /health answers 200; fail if gunicorn dies or never answers."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise E2EError(f"gunicorn exited with {process.returncode}; see {log_file}.")
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=2) as response:
                if response.status == HTTPStatus.OK:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # not listening yet
        time.sleep(0.2)
    raise E2EError(f"gunicorn did not answer {base_url}/health in {STARTUP_TIMEOUT}s.")


@dataclass(frozen=True)
class Target:
    """Where the collection runs and how a tester reads the mail there."""

    base_url: str
    token_command: str
    token_env: dict[str, str] | None  # the environment of the token command (None: ours)
    overrides: dict[str, str]  # environment variables passed to newman


def start_local_target(stack: ExitStack, token_command: str) -> Target:
    """Start a throwaway PostgreSQL, this unit's schema, an admin and gunicorn for `stack`."""
    from scheduler_common.localdb import free_port, running_postgres

    server = stack.enter_context(running_postgres())
    database_url = create_database(server)
    print(f"Throwaway PostgreSQL at {database_url}.", flush=True)
    app_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        # A throwaway key for a throwaway database.
        "SECRET_KEY": secrets.token_urlsafe(48),
    }
    admin_password = secrets.token_urlsafe(18)
    create_admin(app_env, ADMIN_EMAIL, admin_password)
    base_url = stack.enter_context(running_gunicorn(app_env, free_port(), REPORTS / "server.log"))
    print(f"Serving the API at {base_url} (log: {REPORTS / 'server.log'}).", flush=True)
    return Target(
        base_url=base_url,
        token_command=token_command,
        token_env=app_env,
        overrides={"adminEmail": ADMIN_EMAIL, "adminPassword": admin_password},
    )


# --- the stages -------------------------------------------------------------------------------


# --8<-- [start:read-token]
def read_verification_token(target: Target, email: str) -> str:
    """Run the token command for `email`, as a tester copies the token from their mail."""
    command = [part.replace("{email}", email) for part in shlex.split(target.token_command)]
    result = subprocess.run(
        command, env=target.token_env, capture_output=True, text=True, check=False
    )
    token = result.stdout.strip()
    if result.returncode != 0 or not token:
        raise E2EError(
            f"No verification token for {email} from `{shlex.join(command)}`:\n"
            f"{result.stdout}{result.stderr}"
        )
    return token
    # --8<-- [end:read-token]


def run_stage(stage: Stage, environment: Path, overrides: dict[str, str]) -> Path:
    """Run one stage with newman, write its reports; the path of its exported environment."""
    exported = REPORTS / f"{stage.name}.postman_environment.json"
    command = [str(NEWMAN), "run", str(COLLECTION), "--environment", str(environment)]
    for folder in stage.folders:
        command += ["--folder", folder]
    for name, value in overrides.items():
        command += ["--env-var", f"{name}={value}"]
    command += [
        "--export-environment",
        str(exported),
        "--timeout-request",
        REQUEST_TIMEOUT_MS,
        "--reporters",
        "cli,junit,htmlextra",
        "--reporter-junit-export",
        str(REPORTS / f"{stage.name}.xml"),
        "--reporter-htmlextra-export",
        str(REPORTS / f"{stage.name}.html"),
        "--reporter-htmlextra-title",
        f"Course Scheduler end to end: {stage.name}",
    ]
    print(f"\n=== Stage {stage.name}: {', '.join(stage.folders)}", flush=True)
    if subprocess.run(command, check=False).returncode != 0:
        raise E2EError(
            f"Stage {stage.name} failed: see the table above, or open "
            f"{REPORTS / (stage.name + '.html')} in a browser."
        )
    return exported


def environment_value(environment: Path, key: str) -> str:
    """Read one variable from an exported Postman environment."""
    values = json.loads(environment.read_text())["values"]
    found = [item["value"] for item in values if item["key"] == key]
    if not found or not found[0]:
        raise E2EError(f"The exported environment {environment} has no {key}.")
    return found[0]


# --8<-- [start:run-collection]
def run_collection(target: Target) -> None:
    """Run both stages against the target, reading the verification mail in between."""
    setup, verified = STAGES
    overrides = {"baseUrl": target.base_url, **target.overrides}
    after_setup = run_stage(setup, ENVIRONMENT, overrides)
    email = environment_value(after_setup, "studentEmail")
    token = read_verification_token(target, email)
    print(f"\nRead the verification token for {email} from the outbox.", flush=True)
    run_stage(verified, after_setup, {**overrides, "verificationToken": token})
    # --8<-- [end:run-collection]


def parse_args() -> argparse.Namespace:
    """The options: by default everything is local and throwaway."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-url",
        help="run against this running API (e.g. http://127.0.0.1:8000/api/v1) instead of "
        "starting one; the admin is the environment file's unless E2E_ADMIN_EMAIL and "
        "E2E_ADMIN_PASSWORD say otherwise",
    )
    parser.add_argument(
        "--token-command",
        default=LOCAL_TOKEN_COMMAND,
        help="the command that prints the newest verification token for {email} "
        "(default: this unit's outbox command)",
    )
    return parser.parse_args()


def remote_target(args: argparse.Namespace) -> Target:
    """A server someone else runs (Unit 4's container, a student's own deployment)."""
    admin = {"adminEmail": "E2E_ADMIN_EMAIL", "adminPassword": "E2E_ADMIN_PASSWORD"}
    overrides = {key: os.environ[name] for key, name in admin.items() if os.environ.get(name)}
    return Target(args.base_url, args.token_command, None, overrides)


def main() -> int:
    """Prepare the target, run the stages, stop everything however the run ends."""
    args = parse_args()
    if not NEWMAN.exists():
        print(f"newman is not installed: run `npm ci` in {HERE.parent}.", file=sys.stderr)
        return 2
    # Stopped by a signal (CI's timeout, `kill`), still stop gunicorn and PostgreSQL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    shutil.rmtree(REPORTS, ignore_errors=True)  # no stale report passes for this run's
    REPORTS.mkdir(parents=True)
    try:
        with ExitStack() as stack:
            if args.base_url:
                target = remote_target(args)
            else:
                target = start_local_target(stack, args.token_command)
            run_collection(target)
    except E2EError as error:
        print(f"\nE2E FAILED: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; the server and the database are stopped.", file=sys.stderr)
        return 130
    print(f"\nE2E passed. Reports: {REPORTS}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
