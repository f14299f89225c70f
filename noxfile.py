"""One command for instructors: `nox` tests every snapshot, lints, and builds the guide."""

from pathlib import Path

import nox

ROOT = Path(__file__).parent
CONSTRAINTS = str(ROOT / "constraints.txt")
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


@nox.session
def bench(session: nox.Session) -> None:
    """Load-test the newest unit beside a bare Flask + psycopg app (see the Performance page)."""
    install(session, "-e", "common[embedded]", "-e", UNITS[-1], "locust")
    session.run("python", "benchmarks/bench.py", *session.posargs)
