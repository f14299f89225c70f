"""Killing the worker in the middle of outbox delivery loses no mail (lesson 4.9).

A real worker process (`flask --app scheduler worker`) delivers to a real SMTP server in this
process, which can hold a session at a chosen step. The worker is killed with SIGKILL (no
clean-up of any kind) while three mails are at three points of their delivery, then started
again:

- A, in the window: the server has the message but has not said 250, so the worker never
  recorded it as sent. The restarted worker sends it again, with the same Message-ID: SMTP has
  no exactly-once, and one death costs at most one duplicate of each mail in that window.
- B, before sending: the session is held before the server has the message. Exactly one copy
  arrives, from the restarted worker.
- C, after marking: sent and committed before the kill. Nothing is sent again.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row
from settings import TEST_SECRET_KEY

from scheduler.services.mail import queue_mail

# It starts worker processes: `nox -s e2e` runs it (`pytest -m system`), a plain pytest does not.
pytestmark = pytest.mark.system

# A dead worker's jobs are run again by the once-a-minute stalled-job check (cron has minutes),
# after WORKER_STALLED_AFTER without a heartbeat: a minute and a little, at most.
REDELIVERY_TIMEOUT = 150
STEP_TIMEOUT = 30


@pytest.fixture
def start_worker(database_url, sink, tmp_path) -> Iterator:
    """Start `flask --app scheduler worker` processes on the test's database and sink; every
    one still running at the end is killed."""
    started: list[subprocess.Popen] = []
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(sink.port),
        "WORKER_CONCURRENCY": "4",  # the mails of one test are all in flight at once
        "WORKER_HEARTBEAT": "0.5",
        "WORKER_STALLED_AFTER": "2",
    }

    def start() -> subprocess.Popen:
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "scheduler", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def queue(database_url: str, to_address: str) -> int:
    """Queue one mail with its delivery job, committed; return its outbox id."""
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        queue_mail(conn, to_address, f"For {to_address}", "Hello.")
        return conn.execute("SELECT max(id) AS id FROM outbox").fetchone()["id"]


def sent(database_url: str, *outbox_ids: int) -> bool:
    """Whether every one of these mails is marked sent."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT bool_and(sent_at IS NOT NULL) FROM outbox WHERE id = ANY(%s)",
            (list(outbox_ids),),
        ).fetchone()
    return bool(row[0])


def wait_until(condition, timeout: float) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def logs(tmp_path: Path) -> str:
    """What the workers printed, to explain a failure."""
    return "\n".join(path.read_text(errors="replace") for path in sorted(tmp_path.glob("*.log")))


# --8<-- [start:kill]
def test_a_killed_worker_loses_no_mail_and_resends_only_the_one_in_the_window(
    database_url, sink, start_worker, tmp_path
):
    window = sink.hold("DATA", "window@example.edu")
    before = sink.hold("RCPT", "before@example.edu")
    first = start_worker()
    after_id = queue(database_url, "after@example.edu")
    assert wait_until(lambda: sent(database_url, after_id), STEP_TIMEOUT), logs(tmp_path)

    window_id = queue(database_url, "window@example.edu")
    before_id = queue(database_url, "before@example.edu")
    assert window.reached.wait(STEP_TIMEOUT), logs(tmp_path)
    assert before.reached.wait(STEP_TIMEOUT), logs(tmp_path)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    window.release.set()  # the server's 250 now goes to a dead socket
    before.release.set()

    assert len(sink.to("window@example.edu")) == 1  # the server has it ...
    assert not sent(database_url, window_id)  # ... the outbox does not know
    assert sink.to("before@example.edu") == []
    assert not sent(database_url, before_id)

    start_worker()
    assert wait_until(lambda: sent(database_url, window_id, before_id), REDELIVERY_TIMEOUT), logs(
        tmp_path
    )

    copies = sink.to("window@example.edu")
    assert len(copies) == 2  # one death, one duplicate
    assert {copy["Message-ID"] for copy in copies} == {f"<outbox-{window_id}@scheduler.localhost>"}
    assert len(sink.to("before@example.edu")) == 1
    assert len(sink.to("after@example.edu")) == 1
    assert len(sink.messages) == 4
    # --8<-- [end:kill]
