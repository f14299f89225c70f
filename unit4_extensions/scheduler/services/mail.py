"""Mail: written to the outbox in the transaction of the change it reports, and handed to the
worker by a job deferred in that same transaction (lesson 4.9)."""

from psycopg import Connection

from scheduler.background import later
from scheduler.repositories import outbox


# --8<-- [start:queue-mail]
def queue_mail(conn: Connection, to_address: str, subject: str, body: str) -> None:
    """Keep a mail in the outbox and defer its delivery: both commit with the caller's
    transaction, or neither does."""
    mail_id = outbox.add(conn, to_address, subject, body)
    later(conn, "deliver_mail", outbox_id=mail_id)
    # --8<-- [end:queue-mail]
