"""One command for instructors: `nox` tests every snapshot, lints, and builds the guide."""

import os
import re
import secrets
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from xml.etree import ElementTree

import nox

ROOT = Path(__file__).parent
CONSTRAINTS = str(ROOT / "constraints.txt")
# Every snapshot folder with a package in it, oldest first; a new unit is picked up by itself.
UNITS = sorted(path.parent.name for path in ROOT.glob("unit[0-9]*_*/pyproject.toml"))

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "docs", "conformance"]
nox.options.reuse_existing_virtualenvs = True


def install(session: nox.Session, *requirements: str) -> None:
    """Install packages against the project's one pin file."""
    session.install("-c", CONSTRAINTS, *requirements)


@nox.session
@nox.parametrize("unit", ["common", *UNITS])
def tests(session: nox.Session, unit: str) -> None:
    """Run one snapshot's tests (or common's) against its own throwaway PostgreSQL."""
    if unit == "common":
        install(session, "-e", "common[testing]")
        package = "scheduler_common"
    else:
        install(session, "-e", "common[testing]", "-e", f"{unit}[test]")
        package = "scheduler"
    session.chdir(unit)
    # coverage wraps pytest (rather than pytest-cov) so that it also sees the fixtures
    # module, which pytest imports as a plugin before any pytest-cov could start.
    session.run("coverage", "run", f"--source={package}", "-m", "pytest", *session.posargs)
    session.run("coverage", "report", "--show-missing", "--skip-covered", "--fail-under=90")


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    install(session, "ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the guide strictly (a broken link or missing snippet fails); check it is offline."""
    install(session, "mkdocs", "mkdocs-material", "pymdown-extensions")
    site = str(ROOT / "site")
    session.run("mkdocs", "build", "--strict", "--site-dir", site)
    session.run("python", str(ROOT / "docs" / "check_offline.py"), site)


@nox.session
def serve(session: nox.Session) -> None:
    """Run the newest unit (or the one named after --) with seed data and print its URL."""
    unit = session.posargs[0] if session.posargs else UNITS[-1]
    if unit not in UNITS:
        session.error(f"Unknown unit {unit!r}; choose one of {', '.join(UNITS)}.")
    install(session, "-e", "common[embedded]", "-e", unit)
    session.chdir(unit)
    session.run("python", "-m", "scheduler_common.serve", *session.posargs[1:])


@nox.session
def benchmark(session: nox.Session) -> None:
    """Measure per-test database isolation overhead against the raw clone-and-drop cost."""
    install(session, "-e", "common[testing]", "-e", UNITS[-1])
    session.run("python", "benchmarks/isolation.py", *session.posargs)


# The conformance suite's sanity check: an older unit checked at the next unit's level must
# fail these lessons (and still pass its own).
EXPECTED_FAILURES_ONE_LEVEL_UP = {"unit1_data_api": {"2.1", "2.2", "2.3", "2.4", "2.5"}}
CONFORMANCE_ADMIN = "conformance-admin@example.edu"
INSTRUCTOR_COMMAND = (
    "printf '%s\\n' {password} | flask --app scheduler create-instructor-account {instructor_id}"
)
SERVER_START_SECONDS = 120


@nox.session
@nox.parametrize("unit", ["suite", *UNITS])
def conformance(session: nox.Session, unit: str) -> None:
    """Serve one snapshot on a throwaway database and run the conformance suite at its level;
    a unit with a sanity check is also run one level up and must fail the expected lessons.
    `unit='suite'` runs the suite's own tests (against fake servers) instead."""
    if unit == "suite":
        install(session, "-e", "conformance[test]")
        session.chdir("conformance")
        session.run("pytest", *session.posargs)
        return
    install(session, "-e", "common[embedded]", "-e", unit, "-e", "conformance[database]")
    level = int(re.match(r"unit(\d+)", unit).group(1))
    reports = Path(session.create_tmp())
    secret_key = secrets.token_urlsafe(48)
    with served(session, unit, secret_key, reports / "server.log") as (base_url, database_url):
        # The unit's own commands (create-admin, create-instructor-account) reach its database.
        unit_env = {"DATABASE_URL": database_url, "SECRET_KEY": secret_key, "BCRYPT_ROUNDS": "4"}
        # `--option=value`: a random secret may start with "-".
        options = [f"--base-url={base_url}", f"--database-url={database_url}"]
        if level >= 2:
            password = secrets.token_urlsafe(16)
            create_admin(session, unit_env, password)
            options += [f"--admin-email={CONFORMANCE_ADMIN}", f"--admin-password={password}"]
            options += [f"--secret-key={secret_key}", f"--instructor-command={INSTRUCTOR_COMMAND}"]
        run_suite(session, options, level, reports / unit, unit_env)
        expected = EXPECTED_FAILURES_ONE_LEVEL_UP.get(unit)
        if expected:
            junit = run_suite(
                session, options, level + 1, reports / f"{unit}-at-unit{level + 1}", unit_env, 1
            )
            failed = failed_lessons(junit)
            if not expected <= failed or any(lesson.startswith(f"{level}.") for lesson in failed):
                session.error(
                    f"{unit} at Unit {level + 1} should fail {sorted(expected)} and pass Unit "
                    f"{level}; it failed {sorted(failed)}."
                )
            session.log(f"Sanity check: {unit} at Unit {level + 1} fails {sorted(failed)}.")


def run_suite(
    session: nox.Session,
    options: list[str],
    level: int,
    report: Path,
    env: dict[str, str],
    exit_code: int = 0,
) -> Path:
    """Run the suite at `level`, expecting `exit_code`; write `report`.md and .xml, and
    return the JUnit file."""
    junit = report.with_suffix(".xml")
    session.run(
        "scheduler-conformance",
        *options,
        f"--unit={level}",
        f"--markdown={report.with_suffix('.md')}",
        f"--junit={junit}",
        env=env,
        success_codes=[exit_code],
    )
    return junit


class served:
    """Context manager: the unit served by `scheduler_common.serve` (a throwaway PostgreSQL,
    schema and seed, exactly as `nox -s serve` does) on a free port; yields its base URL and
    database URL, and stops it (and so its database) on the way out."""

    def __init__(self, session: nox.Session, unit: str, secret_key: str, log: Path):
        self.session, self.unit, self.log = session, unit, log
        self.env = {**os.environ, "SECRET_KEY": secret_key, "BCRYPT_ROUNDS": "4"}
        self.env.pop("DATABASE_URL", None)  # serve starts its own database only without one

    def __enter__(self) -> tuple[str, str]:
        """Start the server and wait until it answers its health check."""
        port = free_port()
        python = str(Path(self.session.bin) / "python")
        command = [python, "-m", "scheduler_common.serve", "--port", str(port)]
        self.output = self.log.open("w")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT / self.unit,
            env=self.env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not answers(f"{base_url}/api/v1/health"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                self.session.error(f"{self.unit} did not start:\n{self.log.read_text()}")
            time.sleep(0.5)
        found = re.search(r"Throwaway PostgreSQL at (\S+?),", self.log.read_text())
        if not found:
            self.__exit__()
            self.session.error(f"serve printed no database URL:\n{self.log.read_text()}")
        return base_url, found.group(1)

    def __exit__(self, *exc_info) -> None:
        """Stop the server: on SIGTERM it stops its PostgreSQL and deletes it."""
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.output.close()


def create_admin(session: nox.Session, unit_env: dict[str, str], password: str) -> None:
    """Make the suite's admin account with the unit's own `flask create-admin`."""
    flask = str(Path(session.bin) / "flask")
    command = [flask, "--app", "scheduler", "create-admin", CONFORMANCE_ADMIN]
    env = {**os.environ, **unit_env}
    subprocess.run(command, input=password + "\n", text=True, env=env, check=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """Whether the URL answers 200 right now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def failed_lessons(junit: Path) -> set[str]:
    """The lessons with a failure in a conformance JUnit report ("2.1 Auth as …" → "2.1")."""
    suites = ElementTree.parse(junit).getroot()
    return {suite.get("name").split()[0] for suite in suites if int(suite.get("failures", "0")) > 0}
