"""Outbox delivery (lesson 4.9) against a real SMTP server in this process (aiosmtpd): the
worker's jobs send each mail once, keep what failed, retry what may pass later, and a sweep
gives mail without a job one. Every check reads what the server received."""

import socket
import threading
import time
from datetime import UTC, datetime

import pytest

from scheduler.background import later
from scheduler.extensions import database
from scheduler.services.mail import queue_mail, requeue_unsent

ADDRESS = "ada@example.edu"


def queue(app, to_address: str = ADDRESS, subject: str = "Hello", body: str = "Hi Ada.") -> int:
    """Queue one mail (and its job) as a service does; return its outbox id."""
    with app.app_context(), database().transaction() as conn:
        queue_mail(conn, to_address, subject, body)
        return conn.execute("SELECT max(id) AS id FROM outbox").fetchone()["id"]


def defer(app, task: str, **arguments) -> None:
    """Defer one job in a transaction of its own."""
    with app.app_context(), database().transaction() as conn:
        later(conn, task, **arguments)


def outbox_row(db, outbox_id: int) -> dict:
    """The outbox row as it is now."""
    return db.execute("SELECT * FROM outbox WHERE id = %s", (outbox_id,)).fetchone()


def delivery_jobs(db) -> list[dict]:
    """Every deliver_mail job, oldest first."""
    return db.execute(
        "SELECT id, status, attempts, args, scheduled_at FROM procrastinate_jobs"
        " WHERE task_name = 'deliver_mail' ORDER BY id"
    ).fetchall()


def make_due(db) -> None:
    """Bring every job scheduled for later to now, as if the retry's wait had passed."""
    db.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")


@pytest.fixture
def closed_port():
    """A local port where nothing listens: connecting to it is refused at once."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound, never listening: the port stays ours, and shut
        yield unused.getsockname()[1]


def test_a_queued_mail_arrives_with_its_headers_body_and_a_stable_message_id(
    app, smtp_sink, run_jobs, db
):
    outbox_id = queue(app, subject="Your schedule", body="Monday at nine.\n")

    run_jobs()

    [message] = smtp_sink.messages
    assert message["From"] == app.config["MAIL_FROM"]
    assert message["To"] == ADDRESS
    assert message["Subject"] == "Your schedule"
    assert message["Message-ID"] == f"<outbox-{outbox_id}@scheduler.localhost>"
    row = outbox_row(db, outbox_id)
    assert message["Date"].datetime == row["created_at"].replace(microsecond=0)
    assert message.get_content().splitlines() == ["Monday at nine."]
    assert row["sent_at"] is not None
    assert row["attempts"] == 1
    assert [job["status"] for job in delivery_jobs(db)] == ["succeeded"]


def test_a_registration_through_the_api_ends_in_a_received_mail(
    anonymous_client, smtp_sink, run_jobs
):
    response = anonymous_client.post(
        "/api/v1/auth/register",
        json={"email": "new@example.edu", "password": "long enough password", "full_name": "N"},
    )
    assert response.status_code == 201

    run_jobs()

    [message] = smtp_sink.to("new@example.edu")
    assert message["Subject"] == "Confirm your email address"
    assert "POST /api/v1/auth/verify" in message.get_content()


def test_a_rolled_back_transaction_defers_no_job_and_keeps_no_mail(app, smtp_sink, run_jobs, db):
    class Undo(Exception):
        """Raised to roll the transaction back."""

    def queue_then_fail() -> None:
        """Queue a mail in a transaction that then fails."""
        with app.app_context(), database().transaction() as conn:
            queue_mail(conn, ADDRESS, "Never", "Never sent.")
            raise Undo

    with pytest.raises(Undo):
        queue_then_fail()
    run_jobs()

    assert db.execute("SELECT count(*) AS n FROM outbox").fetchone()["n"] == 0
    assert delivery_jobs(db) == []
    assert smtp_sink.messages == []


def test_a_mail_already_sent_is_not_sent_again_when_a_job_for_it_runs_again(
    app, smtp_sink, run_jobs, db
):
    outbox_id = queue(app)
    run_jobs()
    sent_at = outbox_row(db, outbox_id)["sent_at"]

    defer(app, "deliver_mail", outbox_id=outbox_id)
    run_jobs()

    assert len(smtp_sink.messages) == 1
    assert outbox_row(db, outbox_id)["sent_at"] == sent_at
    assert [job["status"] for job in delivery_jobs(db)] == ["succeeded", "succeeded"]


def test_a_second_job_for_a_mail_being_sent_leaves_it_to_the_first(app, smtp_sink, run_jobs, db):
    held = smtp_sink.hold("DATA", ADDRESS)
    outbox_id = queue(app)
    defer(app, "deliver_mail", outbox_id=outbox_id)
    worker = threading.Thread(target=run_jobs, kwargs={"concurrency": 2})
    worker.start()
    try:
        assert held.reached.wait(30)
        # While the first job holds the row (the server has the mail, the job has no answer
        # yet), the second one finds it locked and is done at once, having sent nothing.
        assert wait_until(lambda: "succeeded" in statuses(db))
        assert len(smtp_sink.messages) == 1
    finally:
        held.release.set()
        worker.join(60)

    assert len(smtp_sink.messages) == 1
    assert statuses(db) == ["succeeded", "succeeded"]


def statuses(db) -> list[str]:
    """The status of each deliver_mail job, oldest first."""
    return [job["status"] for job in delivery_jobs(db)]


def wait_until(condition, timeout: float = 20) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_job_for_a_mail_that_is_gone_sends_nothing_and_succeeds(app, smtp_sink, run_jobs, db):
    defer(app, "deliver_mail", outbox_id=12345)

    run_jobs()

    assert smtp_sink.messages == []
    assert [job["status"] for job in delivery_jobs(db)] == ["succeeded"]


def test_with_smtp_down_the_mail_waits_unsent_and_goes_out_once_smtp_is_back(
    app, smtp_sink, run_jobs, db, closed_port
):
    app.config["SMTP_PORT"] = closed_port
    outbox_id = queue(app)

    run_jobs()

    row = outbox_row(db, outbox_id)
    assert row["sent_at"] is None
    assert row["attempts"] == 1
    assert "ConnectionRefusedError" in row["last_error"]
    [job] = delivery_jobs(db)
    assert job["status"] == "todo"  # retried later, with backoff
    assert job["attempts"] == 1
    assert job["scheduled_at"] > datetime.now(UTC)

    app.config["SMTP_PORT"] = smtp_sink.port
    make_due(db)
    run_jobs()

    assert len(smtp_sink.to(ADDRESS)) == 1
    row = outbox_row(db, outbox_id)
    assert row["sent_at"] is not None
    assert row["last_error"] is None
    assert [job["status"] for job in delivery_jobs(db)] == ["succeeded"]


def test_a_4xx_answer_is_retried_later(app, smtp_sink, run_jobs, db):
    smtp_sink.refuse_with("451 Greylisted, try again later")
    outbox_id = queue(app)

    run_jobs()

    assert "451 Greylisted" in outbox_row(db, outbox_id)["last_error"]
    assert outbox_row(db, outbox_id)["rejected_at"] is None
    assert [job["status"] for job in delivery_jobs(db)] == ["todo"]


def cli(app, *args: str):
    """Run `flask ARGS` against the test's database."""
    return app.test_cli_runner().invoke(args=list(args))


def test_a_5xx_rejection_fails_the_job_visibly_keeps_the_answer_and_a_retry_sends_it(
    app, smtp_sink, run_jobs, db
):
    smtp_sink.refuse_with("550 No such mailbox")
    outbox_id = queue(app)

    run_jobs()

    row = outbox_row(db, outbox_id)
    assert row["sent_at"] is None
    assert row["rejected_at"] is not None
    assert "550 No such mailbox" in row["last_error"]
    [job] = delivery_jobs(db)
    assert job["status"] == "failed"  # not retried: the same mail would be refused again
    listed = cli(app, "jobs", "list", "--status", "failed")
    assert listed.exit_code == 0, listed.output
    assert f"{job['id']:>8}  failed" in listed.output
    assert "deliver_mail" in listed.output
    shown = cli(app, "outbox")
    assert "Status: not sent yet after 1 attempt(s): recipient refused" in shown.output

    smtp_sink.refuse_with(None)  # the cause is fixed (the address was created, say)
    retried = cli(app, "jobs", "retry", str(job["id"]))
    assert retried.exit_code == 0, retried.output
    run_jobs()

    assert len(smtp_sink.to(ADDRESS)) == 1
    assert outbox_row(db, outbox_id)["rejected_at"] is None
    assert "Status: sent " in cli(app, "outbox").output


def test_jobs_list_filters_by_status_and_task_and_says_when_none_matches(
    app, smtp_sink, run_jobs, db
):
    queue(app)
    run_jobs()
    queue(app)

    everything = cli(app, "jobs", "list")
    waiting = cli(app, "jobs", "list", "--status", "todo")
    other_task = cli(app, "jobs", "list", "--task", "no_such_task")

    assert everything.output.count("deliver_mail") == 2
    assert waiting.output.count("deliver_mail") == 1
    assert " todo " in waiting.output
    assert other_task.output == "No job matches.\n"


def test_jobs_retry_refuses_a_job_that_did_not_fail_and_one_that_does_not_exist(app, db):
    queue(app)
    [job] = delivery_jobs(db)

    waiting = cli(app, "jobs", "retry", str(job["id"]))
    missing = cli(app, "jobs", "retry", "999999")

    assert waiting.exit_code == 1
    assert f"Job {job['id']} is todo: only a failed job is retried by hand." in waiting.output
    assert missing.exit_code == 1
    assert "No job with id 999999." in missing.output
    assert delivery_jobs(db)[0]["status"] == "todo"


def test_the_sweep_gives_stranded_mail_a_job_and_pending_mail_no_second_one(app, db):
    # Mail of a Unit 3 database: written to the outbox before there was a queue.
    stranded = insert_mail(db, "old@example.edu")
    pending = queue(app)
    insert_mail(db, "gone@example.edu", rejected_at=datetime.now(UTC))
    insert_mail(db, "done@example.edu", sent_at=datetime.now(UTC))

    with app.app_context():
        assert requeue_unsent(database(), limit=100) == 1
        assert requeue_unsent(database(), limit=100) == 0  # run again: nothing more

    jobs_for = [job["args"]["outbox_id"] for job in delivery_jobs(db)]
    assert sorted(jobs_for) == sorted([stranded, pending])


def test_the_periodic_sweep_job_delivers_mail_from_before_the_queue(app, smtp_sink, run_jobs, db):
    insert_mail(db, "old@example.edu")

    defer(app, "sweep_outbox", timestamp=0)
    run_jobs()

    [message] = smtp_sink.messages
    assert message["To"] == "old@example.edu"


def insert_mail(db, to_address: str, **columns) -> int:
    """An outbox row written straight to the table, with no delivery job; return its id."""
    values = {"to_address": to_address, "subject": "Old", "body": "From Unit 3.", **columns}
    names = ", ".join(values)
    placeholders = ", ".join(f"%({name})s" for name in values)
    return db.execute(
        f"INSERT INTO outbox ({names}) VALUES ({placeholders}) RETURNING id",  # noqa: S608
        values,
    ).fetchone()["id"]


def running_under_a_worker(db, outbox_id: int, silent_for: float) -> None:
    """Make the mail's job look taken by a worker whose last heartbeat was `silent_for`
    seconds ago (as if that worker died while sending it, or is still sending)."""
    worker_id = db.execute(
        "INSERT INTO procrastinate_workers (last_heartbeat)"
        " VALUES (now() - make_interval(secs => %s)) RETURNING id",
        (silent_for,),
    ).fetchone()["id"]
    db.execute(
        "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s"
        " WHERE task_name = 'deliver_mail' AND args @> jsonb_build_object('outbox_id', %s::bigint)",
        (worker_id, outbox_id),
    )


def test_jobs_of_a_worker_silent_for_worker_stalled_after_run_again_and_others_do_not(
    app, smtp_sink, run_jobs, db
):
    app.config["WORKER_STALLED_AFTER"] = 5
    of_a_dead_worker = queue(app, "dead@example.edu")
    running_under_a_worker(db, of_a_dead_worker, silent_for=10)
    of_a_live_worker = queue(app, "live@example.edu")
    running_under_a_worker(db, of_a_live_worker, silent_for=0)

    defer(app, "retry_stalled_jobs", timestamp=0)
    run_jobs()

    assert len(smtp_sink.to("dead@example.edu")) == 1
    assert smtp_sink.to("live@example.edu") == []
    assert outbox_row(db, of_a_live_worker)["sent_at"] is None
    statuses = {job["args"]["outbox_id"]: job["status"] for job in delivery_jobs(db)}
    assert statuses == {of_a_dead_worker: "succeeded", of_a_live_worker: "doing"}
