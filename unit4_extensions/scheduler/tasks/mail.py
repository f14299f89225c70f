"""Delivering the outbox: one job per mail, and a sweep that gives stranded mail a job."""

import procrastinate

from scheduler import mailer
from scheduler.background import queue
from scheduler.services import mail

# Mail that cannot go out yet is tried again after 2, 4, 8 ... 1024 seconds (ten retries,
# about 34 minutes in all); then the job fails (`flask jobs list --status failed`) and the sweep
# below gives the mail a new job, so a long outage delays mail but loses none. A mail the
# server rejects (5xx) is not retried: its job fails at once, the row keeps the answer, and
# `flask jobs retry ID` sends it once the cause is fixed.
DELIVERY_RETRY = procrastinate.RetryStrategy(
    max_attempts=10, exponential_wait=2, retry_exceptions={mailer.TryLater}
)
SWEEP_BATCH = 500  # mails per sweep; more wait for the next one


# --8<-- [start:deliver-mail]
@queue.task(name="deliver_mail", pass_context=True, retry=DELIVERY_RETRY)
def deliver_mail(context: procrastinate.JobContext, outbox_id: int) -> bool:
    """Send outbox mail `outbox_id` over SMTP, once; run again, it sends nothing more."""
    database = context.additional_context["database"]
    config = context.additional_context["config"]

    def send(row: dict) -> None:
        """Build the row's message and hand it to the SMTP server."""
        mailer.send(mailer.build_message(row, config["MAIL_FROM"]), config)

    return mail.deliver(database, outbox_id, send)
    # --8<-- [end:deliver-mail]


# --8<-- [start:sweep]
@queue.periodic(cron="*/5 * * * *", periodic_id="sweep-outbox")
@queue.task(name="sweep_outbox", queueing_lock="sweep_outbox", pass_context=True)
# procrastinate hands a periodic job the time it was due for, as `timestamp`.
def sweep_outbox(context: procrastinate.JobContext, timestamp: int) -> int:  # noqa: ARG001
    """Every five minutes: give unsent mail without a delivery job one; return how many."""
    return mail.requeue_unsent(context.additional_context["database"], SWEEP_BATCH)
    # --8<-- [end:sweep]
