"""Mail: written to the outbox in the transaction of the change it reports, and handed to the
worker by a job deferred in that same transaction (lesson 4.9)."""

from collections.abc import Callable

from psycopg import Connection

from scheduler.background import later
from scheduler.mailer import DeliveryFailed, Rejected
from scheduler.repositories import outbox
from scheduler.unit_of_work import Database


# --8<-- [start:queue-mail]
def queue_mail(conn: Connection, to_address: str, subject: str, body: str) -> None:
    """Keep a mail in the outbox and defer its delivery: both commit with the caller's
    transaction, or neither does."""
    mail_id = outbox.add(conn, to_address, subject, body)
    later(conn, "deliver_mail", outbox_id=mail_id)
    # --8<-- [end:queue-mail]


# --8<-- [start:deliver]
def deliver(db: Database, outbox_id: int, send: Callable[[dict], None]) -> bool:
    """Send one outbox mail unless it was sent already; return whether this call sent it.

    The row stays locked from before the send until `sent_at` commits: a second job for the
    same mail waits for no one and sends nothing. A failure is kept on the row (committed)
    and raised again, for the job's retries.
    """
    with db.transaction() as conn:
        mail = outbox.lock_unsent(conn, outbox_id)
        if mail is None:  # sent, gone, or being sent by another worker right now
            return False
        try:
            send(mail)
        except DeliveryFailed as error:
            outbox.record_failure(conn, outbox_id, str(error), rejected=isinstance(error, Rejected))
            failure = error
        else:
            outbox.mark_sent(conn, outbox_id)
            return True
    raise failure
    # --8<-- [end:deliver]


# --8<-- [start:requeue]
def requeue_unsent(db: Database, limit: int) -> int:
    """Defer a delivery job for each unsent mail that has none waiting or running (mail of a
    database from before the queue, or whose job ran out of attempts); return how many."""
    with db.transaction() as conn:
        stranded = outbox.lock_unsent_without_job(conn, limit)
        for outbox_id in stranded:
            later(conn, "deliver_mail", outbox_id=outbox_id)
    return len(stranded)
    # --8<-- [end:requeue]
