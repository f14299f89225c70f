"""Reliability across processes (lesson 4.10): gunicorn and a `flask worker` on a PostgreSQL
server of the test's own, over real HTTP with client timeouts.

- The database stops and starts under load: every answer is a 200 or a 503 problem with
  Retry-After (never a 500, never a hang), and the same processes serve again by themselves.
- Both pooled connections stuck behind a lock: a further request gets its 503 after about
  DB_POOL_TIMEOUT, and everything succeeds once the lock is released.
- SIGTERM to gunicorn: the request in flight still gets its answer, gunicorn exits 0, and new
  connections are refused.
"""

import signal
import subprocess
import time
import urllib.error
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg
import pytest
from http_load import CLIENT_TIMEOUT, Load, call, is_unavailable
from running_system import app_environment, create_admin, query

pytestmark = pytest.mark.system

ADMIN = "admin@reliability.example"
PASSWORD = "correct horse battery staple"
POOL_TIMEOUT = 2  # seconds a request waits for a pooled connection before its 503
RECOVERY_TIMEOUT = 30  # seconds the API may take to answer 200 again after the outage
MAIL_TIMEOUT = 60  # seconds for the worker to deliver a mail queued after the outage


def admin_token(env: dict[str, str], base_url: str) -> str:
    """Create the admin as an operator does and log in; the token."""
    create_admin(env, ADMIN, PASSWORD)
    status, _, answer = call(
        f"{base_url}/auth/login", "POST", {"email": ADMIN, "password": PASSWORD}
    )
    assert status == 200, answer
    return answer["access_token"]


def children(pid: int) -> set[int]:
    """The PIDs of a process's children (gunicorn's workers)."""
    result = subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True, timeout=10, check=False
    )
    return {int(line) for line in result.stdout.split()}


def gunicorn_process(processes) -> subprocess.Popen:
    """The gunicorn master the test started."""
    return next(p for p in processes.started if p.args[-2:] == ["-m", "gunicorn"])


# --8<-- [start:outage]
def test_the_system_rides_out_a_database_restart_under_load(
    postgres, system_database, processes, sink
):
    """PostgreSQL stops for a few seconds: 503s meanwhile, then 200s from the same processes,
    and the worker started before the outage delivers mail queued after it."""
    env = app_environment(
        system_database,
        DB_POOL_TIMEOUT=POOL_TIMEOUT,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=sink.port,
        WORKER_HEARTBEAT=0.5,
        WORKER_STALLED_AFTER=2,
    )
    base_url = processes.gunicorn(env, workers=2)
    token = admin_token(env, base_url)
    worker = processes.worker(env)
    master = gunicorn_process(processes)
    pids = children(master.pid)
    assert len(pids) == 2
    load = Load(base_url, token)
    time.sleep(1)

    paused = time.monotonic()
    postgres.pause()
    time.sleep(4)
    postgres.resume()
    resumed = time.monotonic()
    processes.wait_until(lambda: call(f"{base_url}/health")[0] == 200, RECOVERY_TIMEOUT, master)
    recovered_after = time.monotonic() - resumed
    time.sleep(1)
    load.stop()

    assert load.errors == [], f"{load.errors[:3]}\n{processes}"
    wrong = [(status, headers) for _, status, headers in load.answers if status != 200]
    assert all(is_unavailable(*answer) for answer in wrong), wrong[:3]
    assert wrong, "no 503 during the outage"
    assert all(when > paused for when, status, _ in load.answers if status != 200)
    assert load.answers[-1][1] == 200
    # No restart of any kind: the same master and the same two workers.
    assert master.poll() is None
    assert children(master.pid) == pids
    print(f"{len(load.answers)} answers, {len(wrong)} 503s; 200 again {recovered_after:.1f} s")
    # --8<-- [end:outage]

    # The worker, never restarted, still runs jobs: the new student's verification mail.
    status, _, answer = call(
        f"{base_url}/auth/register",
        "POST",
        {"email": "student@reliability.example", "password": PASSWORD, "full_name": "S"},
    )
    assert status == 201, answer
    processes.wait_until(
        lambda: query(
            system_database,
            "SELECT 1 FROM outbox WHERE to_address = %s AND sent_at IS NOT NULL",
            "student@reliability.example",
        ),
        MAIL_TIMEOUT,
        worker,
    )
    assert sink.to("student@reliability.example")


@contextmanager
def sections_locked(database_url: str) -> Iterator[psycopg.Connection]:
    """Hold an exclusive lock on the sections table from the test's own connection until the
    block ends: every request that reads sections waits for it, holding its pooled connection."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        conn.execute("LOCK TABLE sections IN ACCESS EXCLUSIVE MODE")
        yield conn
        conn.rollback()


def waiting_for_the_lock(database_url: str) -> int:
    """How many sessions wait for a lock in this database now."""
    rows = query(
        database_url,
        "SELECT count(*) AS n FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    return rows[0]["n"]


# --8<-- [start:pool]
def test_an_exhausted_pool_answers_503_in_bounded_time_and_then_recovers(
    system_database, processes
):
    """Both pooled connections stuck behind a lock: a further request gets its 503 after about
    DB_POOL_TIMEOUT, never hangs; released, the stuck requests and new ones succeed."""
    env = app_environment(system_database, DB_LOCK_TIMEOUT=10, DB_POOL_MAX_SIZE=2)
    base_url = processes.gunicorn(env, workers=1, GUNICORN_THREADS=8, DB_POOL_TIMEOUT=1)
    with ThreadPoolExecutor(max_workers=2) as executor:
        with sections_locked(system_database):
            stuck = [executor.submit(call, f"{base_url}/sections") for _ in range(2)]
            processes.wait_until(lambda: waiting_for_the_lock(system_database) == 2, 10)
            started = time.monotonic()
            status, headers, answer = call(f"{base_url}/health")
            waited = time.monotonic() - started
            assert is_unavailable(status, headers), (status, answer)
            assert waited < 10, waited
        assert [future.result(CLIENT_TIMEOUT)[0] for future in stuck] == [200, 200]
    assert call(f"{base_url}/health")[0] == 200
    assert call(f"{base_url}/sections")[0] == 200
    print(f"503 after {waited:.2f} s with the pool exhausted")
    # --8<-- [end:pool]


# --8<-- [start:sigterm]
def test_sigterm_lets_gunicorn_finish_the_request_in_flight(system_database, processes):
    """SIGTERM while a request waits on a lock: released, it gets its 200, gunicorn exits 0
    within its graceful timeout, and new connections are refused."""
    graceful = 20
    env = app_environment(system_database, DB_LOCK_TIMEOUT=10)
    base_url = processes.gunicorn(env, workers=1, GUNICORN_GRACEFUL_TIMEOUT=graceful)
    master = gunicorn_process(processes)
    with ThreadPoolExecutor(max_workers=1) as executor:
        with sections_locked(system_database):
            in_flight = executor.submit(call, f"{base_url}/sections")
            processes.wait_until(lambda: waiting_for_the_lock(system_database) == 1, 10)
            master.send_signal(signal.SIGTERM)
            terminated = time.monotonic()
            time.sleep(1)  # gunicorn has stopped accepting, the request still waits
        status, _, answer = in_flight.result(CLIENT_TIMEOUT)
    assert status == 200, (status, answer)
    assert "items" in answer
    assert master.wait(graceful + 5) == 0
    exited_after = time.monotonic() - terminated
    assert exited_after < graceful, exited_after
    print(f"gunicorn exited 0, {exited_after:.2f} s after SIGTERM")
    with pytest.raises(urllib.error.URLError) as refused:
        call(f"{base_url}/health")
    assert isinstance(refused.value.reason, ConnectionRefusedError)
    # --8<-- [end:sigterm]
