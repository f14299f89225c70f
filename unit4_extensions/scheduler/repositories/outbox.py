"""SQL for the outbox: mail written in the same transaction as the change it reports."""

from psycopg import Connection


def add(conn: Connection, to_address: str, subject: str, body: str) -> int:
    """Keep a mail to send; return its id."""
    return conn.execute(
        "INSERT INTO outbox (to_address, subject, body) VALUES (%s, %s, %s) RETURNING id",
        (to_address, subject, body),
    ).fetchone()["id"]


def newest(conn: Connection, to_address: str | None, limit: int) -> list[dict]:
    """The newest mails first, all of them or those to one address (in any letter case)."""
    return conn.execute(
        """
        SELECT to_address, subject, created_at, body, sent_at, attempts, last_error
        FROM outbox
        WHERE %(to)s::text IS NULL OR lower(to_address) = lower(%(to)s::text)
        ORDER BY created_at DESC, id DESC
        LIMIT %(limit)s
        """,
        {"to": to_address, "limit": limit},
    ).fetchall()


# --8<-- [start:lock-unsent]
def lock_unsent(conn: Connection, outbox_id: int) -> dict | None:
    """The mail, locked until the transaction ends, if it is still unsent; None if it was
    sent, is gone, or another worker holds it (that delivery is theirs)."""
    return conn.execute(
        """
        SELECT id, to_address, subject, body, created_at
        FROM outbox
        WHERE id = %s AND sent_at IS NULL
        FOR UPDATE SKIP LOCKED
        """,
        (outbox_id,),
    ).fetchone()
    # --8<-- [end:lock-unsent]


def mark_sent(conn: Connection, outbox_id: int) -> None:
    """Record that the SMTP server accepted the mail."""
    conn.execute(
        "UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL,"
        " rejected_at = NULL WHERE id = %s",
        (outbox_id,),
    )


def record_failure(conn: Connection, outbox_id: int, error: str, *, rejected: bool) -> None:
    """Keep what a failed attempt met; `rejected`: the server refused the mail for good."""
    conn.execute(
        """
        UPDATE outbox
        SET attempts = attempts + 1, last_error = %s,
            rejected_at = CASE WHEN %s THEN now() END
        WHERE id = %s
        """,
        (error, rejected, outbox_id),
    )


# --8<-- [start:without-job]
def lock_unsent_without_job(conn: Connection, limit: int) -> list[int]:
    """Ids of unsent, unrejected mail that no waiting or running delivery job will send,
    oldest first, locked so that a sweep running beside this one skips them."""
    rows = conn.execute(
        """
        SELECT id
        FROM outbox AS mail
        WHERE sent_at IS NULL AND rejected_at IS NULL
          AND NOT EXISTS (
              SELECT FROM procrastinate_jobs AS job
              WHERE job.task_name = 'deliver_mail'
                AND job.status IN ('todo', 'doing')
                AND job.args @> jsonb_build_object('outbox_id', mail.id)
          )
        ORDER BY created_at, id  -- outbox_unsent_idx: the unsent are few, however many sent
        LIMIT %s
        FOR UPDATE OF mail SKIP LOCKED
        """,
        (limit,),
    ).fetchall()
    return [row["id"] for row in rows]
    # --8<-- [end:without-job]
