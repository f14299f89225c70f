"""Purging the unbounded tables on a schedule (lesson 4.9): the tokens and failed logins that
can no longer matter."""

import logging
from datetime import timedelta

import procrastinate

from scheduler.background import queue
from scheduler.clock import utc_now
from scheduler.services import housekeeping

logger = logging.getLogger(__name__)


# --8<-- [start:purge-task]
# Hourly, at 17 past, so it does not meet everything else scheduled on the hour. Deleting what
# is already gone deletes nothing: a run repeated, or two at once, does no harm.
@queue.periodic(cron="17 * * * *", periodic_id="purge-expired-rows")
@queue.task(
    name="purge_expired_rows",
    queueing_lock="purge_expired_rows",
    pass_context=True,
    retry=procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2),
)
# procrastinate hands a periodic job the time it was due for, as `timestamp`.
def purge_expired_rows(context: procrastinate.JobContext, timestamp: int) -> dict[str, int]:  # noqa: ARG001
    """Delete expired verification tokens, spent refresh token families and old failed
    logins; log and return how many of each."""
    config = context.additional_context["config"]
    now = config.get("CLOCK", utc_now)()
    purged = housekeeping.purge_expired(
        context.additional_context["database"],
        now,
        login_window=timedelta(seconds=config["LOGIN_WINDOW"]),
    )
    logger.info("Purged %s", ", ".join(f"{count} {table}" for table, count in purged.items()))
    return purged
    # --8<-- [end:purge-task]
