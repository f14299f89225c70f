"""Promoting the waitlist: a seat freed by a drop, or added by a raised capacity, goes to the
next in line (lesson 4.9)."""

import logging

import procrastinate

from scheduler.background import queue
from scheduler.services import enrollment

logger = logging.getLogger(__name__)


# --8<-- [start:promote-waitlist]
# A failure here is the database's (a lock wait timed out, a connection dropped): waiting
# 2, 4, 8 ... seconds lets it pass. The seats already given stay given; a retry fills the rest.
@queue.task(
    name="promote_waitlist",
    pass_context=True,
    retry=procrastinate.RetryStrategy(max_attempts=8, exponential_wait=2),
)
def promote_waitlist(context: procrastinate.JobContext, section_id: int) -> int:
    """Seat the section's next in line while seats are free, each told by mail; return how
    many. Running it again, or twice at once, seats nobody twice."""
    database = context.additional_context["database"]
    promoted = enrollment.fill_free_seats(database, section_id)
    logger.info(
        "Promoted %d students from the waitlist of section %d: %s",
        len(promoted),
        section_id,
        [seat["student_id"] for seat in promoted],
    )
    return len(promoted)
    # --8<-- [end:promote-waitlist]
