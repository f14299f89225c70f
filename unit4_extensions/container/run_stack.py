"""Run this unit's compose stack for real, as CI does (`nox -s container`): build the images
with podman, start compose.yaml, run the Postman collection against it with newman, check
that a mail registered through the API reaches the SMTP sink through the worker, that the
data outlives `down` and `up`, and remove it all however the run ends.

    python container/run_stack.py      # in unit4_extensions/, as root, with podman,
                                       # podman-compose and newman (`npm ci`) installed

No image registry is needed: the base image is made from Debian's packages
(container/make-base-image.sh), and PostgreSQL and the SMTP sink are built on it
(container/postgres.Dockerfile, container/smtp-sink.Dockerfile).
"""

import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
UNIT = HERE.parent
ROOT = UNIT.parent
BASE_IMAGE = "localhost/debian-python:bookworm"
POSTGRES_IMAGE = "localhost/scheduler-postgres:15"
API_IMAGE = "localhost/scheduler-api:ci"
MAIL_IMAGE = "localhost/scheduler-smtp-sink:ci"
SPOOL = "/var/spool/sink"  # where the sink keeps each mail (container/smtp_sink.py)
MAIL_TIMEOUT = 60  # seconds for a registration's mail to reach the sink
PROJECT = "scheduler-ci"  # not "scheduler", the project a student's own `up` makes
SECRET_KEY_FILE = UNIT / "secrets" / "secret_key"
ADMIN_EMAIL = "container-admin@example.edu"
HEALTH_TIMEOUT = 180  # seconds for a service to pass its health check on a busy machine


class StackError(RuntimeError):
    """The run cannot go on; the message says why."""


def run(command: list[str], **options) -> subprocess.CompletedProcess:
    """Run a command, showing it first; fail on a non-zero exit unless check=False."""
    print(f"+ {shlex.join(command)}", flush=True)
    return subprocess.run(command, check=options.pop("check", True), **options)


# --8<-- [start:build]
def build(dockerfile: Path, context: Path, tag: str, arg: str) -> float:
    """Build one image; the seconds it took."""
    started = time.monotonic()
    # --format docker: the OCI image format has no HEALTHCHECK, and podman would drop it.
    command = [
        "podman",
        "build",
        "--format",
        "docker",
        "--build-arg",
        arg,
        "--file",
        str(dockerfile),
    ]
    run([*command, "--tag", tag, str(context)])
    return time.monotonic() - started


def build_images() -> None:
    """The base image (made once), PostgreSQL on it, and the API image, whose build time
    and size are reported."""
    run([str(HERE / "make-base-image.sh"), BASE_IMAGE])
    build(HERE / "postgres.Dockerfile", HERE, POSTGRES_IMAGE, f"BASE_IMAGE={BASE_IMAGE}")
    build(HERE / "smtp-sink.Dockerfile", ROOT, MAIL_IMAGE, f"BASE_IMAGE={BASE_IMAGE}")
    seconds = build(UNIT / "Dockerfile", ROOT, API_IMAGE, f"PYTHON_IMAGE={BASE_IMAGE}")
    inspect = ["podman", "image", "inspect", "--format", "{{.Size}}", API_IMAGE]
    size = int(run(inspect, capture_output=True, text=True).stdout)
    print(f"API image {API_IMAGE}: {size / 1e6:.0f} MB, built in {seconds:.0f} s.", flush=True)
    # --8<-- [end:build]


def compose(*args: str) -> None:
    """Run podman-compose on this unit's compose.yaml as the CI project."""
    run(["podman-compose", "--project-name", PROJECT, "--file", str(UNIT / "compose.yaml"), *args])


def container(service: str) -> str:
    """The name podman-compose gives a service's container."""
    return f"{PROJECT}_{service}_1"


# --8<-- [start:wait]
def wait_healthy(service: str) -> None:
    """Run the service's own health check until it passes. podman runs health checks from
    systemd timers, and where there is no systemd (CI, most containers) nothing runs them."""
    deadline = time.monotonic() + HEALTH_TIMEOUT
    check = ["podman", "healthcheck", "run", container(service)]
    while subprocess.run(check, capture_output=True, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise StackError(f"{service} failed its health check for {HEALTH_TIMEOUT} s.")
        time.sleep(1)
    print(f"{service} is healthy.", flush=True)


def start_stack() -> None:
    """Start the services one by one, each once what it depends on is ready: what
    `depends_on` asks of Compose. podman below 4.6 cannot wait for a healthy container (so
    podman-compose starts the dependants at once, and warns), and podman 4.3 fails to start
    a container whose dependency has one of its own; --no-deps leaves the order to us."""
    compose("up", "--detach", "db")
    wait_healthy("db")
    compose("up", "--detach", "--no-deps", "migrate")
    exit_code = run(["podman", "wait", container("migrate")], capture_output=True, text=True)
    run(["podman", "logs", container("migrate")])
    if exit_code.stdout.strip() != "0":
        raise StackError("The migrate service failed; its log is above.")
    compose("up", "--detach", "--no-deps", "mail")
    wait_healthy("mail")
    compose("up", "--detach", "--no-deps", "api", "worker")
    wait_healthy("api")
    # --8<-- [end:wait]


def course_total(base_url: str) -> int:
    """How many courses the API lists."""
    with urllib.request.urlopen(f"{base_url}/courses?limit=1", timeout=10) as response:
        return json.load(response)["total"]


# --8<-- [start:e2e]
def run_collection(base_url: str) -> None:
    """Make an admin in the container, as an operator would, and run the Postman collection
    against the published port; the verification mail is read in the container too."""
    password = secrets.token_urlsafe(18)
    flask = ["flask", "--app", "scheduler"]
    create_admin = ["podman", "exec", "-i", container("api"), *flask, "create-admin", ADMIN_EMAIL]
    run(create_admin, input=f"{password}\n", text=True)
    token_command = ["podman", "exec", container("api"), *flask, "outbox", "--to", "{email}"]
    e2e = [sys.executable, str(UNIT / "postman" / "run_e2e.py"), "--base-url", base_url]
    e2e += ["--token-command", shlex.join([*token_command, "--token"])]
    admin = {"E2E_ADMIN_EMAIL": ADMIN_EMAIL, "E2E_ADMIN_PASSWORD": password}
    if run(e2e, env={**os.environ, **admin}, check=False).returncode != 0:
        raise StackError("The Postman collection failed against the container; see above.")
    # --8<-- [end:e2e]


# --8<-- [start:mail-check]
def check_mail_delivery(base_url: str) -> None:
    """Register through the API and wait for the verification mail to reach the sink: the
    API wrote it to the outbox, the worker took the job and spoke SMTP to the sink."""
    address = f"container-{secrets.token_hex(4)}@example.edu"
    body = {"email": address, "password": secrets.token_urlsafe(12), "full_name": "Mail Check"}
    request = urllib.request.Request(
        f"{base_url}/auth/register",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass
    search = ["podman", "exec", container("mail"), "grep", "-rlF", f"To: {address}", SPOOL]
    deadline = time.monotonic() + MAIL_TIMEOUT
    while (found := subprocess.run(search, check=False, capture_output=True, text=True)).returncode:
        if time.monotonic() > deadline:
            run(["podman", "logs", "--tail", "50", container("worker")], check=False)
            raise StackError(f"No mail to {address} reached the sink in {MAIL_TIMEOUT} s.")
        time.sleep(1)
    print(f"The worker delivered the mail to {address}: {found.stdout.strip()}.", flush=True)
    # --8<-- [end:mail-check]


def make_secret_key() -> None:
    """compose.yaml's secret, made once per checkout. Readable by the container's user (a
    file secret is a bind mount of this file), in a directory only its owner can list."""
    if SECRET_KEY_FILE.exists():
        print(f"Using the secret key in {SECRET_KEY_FILE}.", flush=True)
        return
    SECRET_KEY_FILE.parent.mkdir(mode=0o700, exist_ok=True)
    SECRET_KEY_FILE.write_text(secrets.token_urlsafe(48) + "\n")
    SECRET_KEY_FILE.chmod(0o644)
    print(f"Made a secret key in {SECRET_KEY_FILE}.", flush=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    """Build, start, check, stop; the stack is removed however the run ends."""
    # Stopped by a signal (CI's timeout, `kill`), still remove the stack.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    make_secret_key()
    build_images()
    port = free_port()
    os.environ.update(
        POSTGRES_IMAGE=POSTGRES_IMAGE,
        API_IMAGE=API_IMAGE,
        MAIL_IMAGE=MAIL_IMAGE,
        API_PORT=str(port),
        MAIL_UI_PORT=str(free_port()),
    )
    base_url = f"http://127.0.0.1:{port}/api/v1"
    try:
        start_stack()
        run_collection(base_url)
        check_mail_delivery(base_url)
        # --8<-- [start:persistence]
        before = course_total(base_url)
        compose("down")  # removes the containers and the network, keeps the named volume
        start_stack()
        after = course_total(base_url)
        if after != before:
            raise StackError(f"{before} courses before down/up, {after} after.")
        print(f"The data outlived down/up: {after} courses before and after.", flush=True)
        # --8<-- [end:persistence]
    except (StackError, subprocess.CalledProcessError) as error:
        print(f"\nCONTAINER RUN FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        compose("down", "--volumes")
    print("\nThe stack built, served the collection and kept its data.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
