"""The job queue (lesson 4.9): procrastinate, whose jobs are rows in this same PostgreSQL.

A service defers a job with `later(conn, ...)` on the connection of its own transaction: the
job's row commits with the change that needs it, or rolls back with it. A rolled-back request
enqueues nothing; a committed one is never forgotten. Requests never wait for the job: a
worker process (`flask --app scheduler worker`, scheduler.worker) runs it.
"""

import procrastinate
from psycopg import Connection

# The app's own side of the queue only defers, and always on a connection it is given: this
# connector never opens a pool. The worker runs the same tasks through a connector of its own.
queue = procrastinate.App(
    connector=procrastinate.SyncPsycopgConnector(), import_paths=["scheduler.tasks"]
)


# --8<-- [start:later]
def later(conn: Connection, task: str, **arguments) -> None:
    """Defer the job `task(**arguments)` in the transaction `conn` is in: the job exists if,
    and only if, that transaction commits."""
    queue.configure_task(task, connection=conn).defer(**arguments)
    # --8<-- [end:later]
