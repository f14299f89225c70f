"""One command for instructors: `nox` tests every snapshot, lints, and builds the guide."""

import re
import signal
import tempfile
from pathlib import Path

import nox

ROOT = Path(__file__).parent
CONSTRAINTS = str(ROOT / "constraints.txt")
# coverage's settings for the `tests` session; it follows pytest-xdist into its workers.
COVERAGE_SETTINGS = str(ROOT / ".coveragerc")
# Every snapshot folder with a package in it, oldest first; a new unit is picked up by itself.
UNITS = sorted(path.parent.name for path in ROOT.glob("unit[0-9]*_*/pyproject.toml"))
# The units with an OpenAPI document to fuzz (Unit 3 on), oldest first.
FUZZABLE_UNITS = [unit for unit in UNITS if (ROOT / unit / "tests" / "fuzz.py").exists()]

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "docs"]
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
    session.env["COVERAGE_RCFILE"] = COVERAGE_SETTINGS
    # coverage wraps pytest (rather than pytest-cov) so that it also sees the fixtures
    # module, which pytest imports as a plugin before any pytest-cov could start. Each
    # pytest-xdist worker (one per core, each with its own PostgreSQL) writes its own data
    # file; `-n 0` after -- runs the tests in one process.
    session.run("coverage", "erase")
    session.run(
        "coverage", "run", f"--source={package}", "-m", "pytest", "-n", "auto", *session.posargs
    )
    session.run("coverage", "combine", "--quiet")
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
    database (the collection arrives with Unit 3)."""
    unit = [unit for unit in UNITS if (ROOT / unit / "postman").is_dir()][-1]
    install(session, "-e", "common[embedded]", "-e", unit)
    session.chdir(unit)
    # Node and npm come from the machine; newman itself is pinned in the unit's lock file.
    session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
    session.run("python", "postman/run_e2e.py", *session.posargs)
    # --8<-- [end:e2e-session]


@nox.session
def serve(session: nox.Session) -> None:
    """Serve a unit (the newest, or `-- UNIT`) on a seeded throwaway database; `-- --help`."""
    unit, args = split_unit(session.posargs)
    if unit not in UNITS:
        session.error(f"Unknown unit {unit!r}; choose one of {', '.join(UNITS)}")
    install(session, "-e", "common[embedded]", "-e", unit)
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
