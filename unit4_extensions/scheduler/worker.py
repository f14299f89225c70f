"""`flask worker`: the process that runs background jobs; `flask jobs`: see and retry them.

The worker is its own process, as many of them as you like on as many hosts: each one takes
jobs from the queue's table with `SELECT ... FOR UPDATE SKIP LOCKED`, so no two run one job.
"""

import asyncio
import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import LiteralString

import click
import procrastinate
from flask import Flask, current_app
from psycopg import Connection

from scheduler.background import queue
from scheduler.extensions import database
from scheduler_common.db import WITHOUT_JIT, bounded_waits


class WorkerConnector(procrastinate.PsycopgConnector):
    """The worker's connector: asynchronous, as procrastinate's workers are (they listen for
    new jobs and beat their heart while tasks run), except for a job a task defers with
    `later(conn, ...)` on its own transaction's connection, which is synchronous."""

    def execute_query_all_with_connection(
        self, connection: Connection, query: LiteralString, **arguments
    ) -> list[dict]:
        """Run the deferral on the task's connection, in the task's transaction."""
        return ON_A_GIVEN_CONNECTION.execute_query_all_with_connection(
            connection, query, **arguments
        )


# Used only with a connection it is given: it never opens a pool.
ON_A_GIVEN_CONNECTION = procrastinate.SyncPsycopgConnector()


def worker_connector(app: Flask) -> WorkerConnector:
    """A connector on the app's database, with the app's lock timeout."""
    url = app.config["DATABASE_URL"]
    return WorkerConnector(
        conninfo=url,
        kwargs={"options": bounded_waits(url, None, app.config["DB_LOCK_TIMEOUT"]) + WITHOUT_JIT},
    )


def worker_context(app: Flask) -> dict:
    """What every task finds in `context.additional_context`: the unit of work on the app's
    pool, and the app's settings (tasks run in threads that have no Flask app context)."""
    with app.app_context():
        return {"database": database(), "config": app.config}


# --8<-- [start:run-worker]
def run_worker(app: Flask, *, wait: bool = True, **options) -> None:
    """Run jobs until stopped (SIGINT or SIGTERM let the jobs in flight finish), or, with
    `wait=False`, until the queue is empty (the tests)."""

    # The queue itself takes the worker's connector while the worker runs (not a copy of the
    # queue: the periodic tasks defer through the queue they were registered on).
    async def work() -> None:
        with queue.replace_connector(worker_connector(app)) as worker:
            async with worker.open_async():
                await worker.run_worker_async(
                    wait=wait, additional_context=worker_context(app), **options
                )

    asyncio.run(work())
    # --8<-- [end:run-worker]


def show_job(job: procrastinate.jobs.Job) -> None:
    """Print one job on one line."""
    scheduled = job.scheduled_at.isoformat(timespec="seconds") if job.scheduled_at else "-"
    click.echo(
        f"{job.id:>8}  {job.status:<9} {job.task_name:<22} attempts={job.attempts}  "
        f"scheduled={scheduled}  {job.task_kwargs}"
    )


def register_worker_commands(app: Flask) -> None:
    """Add `flask worker` and `flask jobs list|retry`."""

    @app.cli.command("worker")
    @click.option(
        "--concurrency",
        type=click.IntRange(1),
        help="Jobs run at once by this process (default: WORKER_CONCURRENCY).",
    )
    @click.option("--queue", "queues", multiple=True, help="Only these queues (repeatable).")
    def worker_command(concurrency: int | None, queues: tuple[str, ...]) -> None:
        """Run background jobs until stopped."""
        run_worker(
            current_app._get_current_object(),
            concurrency=concurrency or current_app.config["WORKER_CONCURRENCY"],
            queues=queues or None,
            shutdown_graceful_timeout=current_app.config["WORKER_SHUTDOWN_TIMEOUT"],
        )

    @app.cli.group("jobs")
    def jobs_group() -> None:
        """See and retry background jobs."""

    @jobs_group.command("list")
    @click.option(
        "--status",
        type=click.Choice([status.value for status in procrastinate.jobs.Status]),
        help="Only jobs in this state (failed: out of attempts).",
    )
    @click.option("--task", help="Only jobs of this task.")
    def list_command(status: str | None, task: str | None) -> None:
        """List jobs, oldest first."""
        with job_manager(current_app) as manager:
            found = list(manager.list_jobs(status=status, task=task))
        for job in found:
            show_job(job)
        if not found:
            click.echo("No job matches.")

    @jobs_group.command("retry")
    @click.argument("job_id", type=click.IntRange(1))
    def retry_command(job_id: int) -> None:
        """Queue failed job JOB_ID again, to run now (its attempts start over)."""
        with job_manager(current_app) as manager:
            found = list(manager.list_jobs(id=job_id))
            if not found:
                raise click.ClickException(f"No job with id {job_id}.")
            if found[0].status != "failed":
                raise click.ClickException(
                    f"Job {job_id} is {found[0].status}: only a failed job is retried by hand."
                )
            manager.retry_job_by_id(job_id, retry_at=datetime.datetime.now(datetime.UTC))
        click.echo(f"Job {job_id} is queued again.")


@contextmanager
def job_manager(app: Flask) -> Iterator[procrastinate.manager.JobManager]:
    """The queue's job manager on a one-connection pool of its own, for a command's few
    queries."""
    connector = procrastinate.SyncPsycopgConnector(
        conninfo=app.config["DATABASE_URL"], min_size=1, max_size=1
    )
    connector.open()
    try:
        yield procrastinate.manager.JobManager(connector)
    finally:
        connector.close()
