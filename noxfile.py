"""One command for instructors: `nox` tests every snapshot, lints, and builds the guide."""

from pathlib import Path

import nox

ROOT = Path(__file__).parent
CONSTRAINTS = str(ROOT / "constraints.txt")
# coverage's settings for the `tests` session; it follows pytest-xdist into its workers.
COVERAGE_SETTINGS = str(ROOT / ".coveragerc")
# Every snapshot folder with a package in it, oldest first; a new unit is picked up by itself.
UNITS = sorted(path.parent.name for path in ROOT.glob("unit[0-9]*_*/pyproject.toml"))

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
    """Build the guide strictly: a broken link or a missing snippet fails the build."""
    install(session, "mkdocs", "mkdocs-material", "pymdown-extensions")
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / "site"))


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
@nox.parametrize("unit", UNITS)
def benchmark(session: nox.Session, unit: str) -> None:
    """Measure a unit's per-test isolation overhead against the raw clone-and-drop cost, and
    its whole suite's cost per test in one process and on every core."""
    install(session, "-e", "common[testing]", "-e", f"{unit}[test]")
    session.run("python", "benchmarks/isolation.py", unit, *session.posargs)
