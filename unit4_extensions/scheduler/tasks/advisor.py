"""The advisor's job: make the plan a student asked for (lessons 4.7 and 4.8)."""

import procrastinate

from scheduler.advisor_models import provider_for
from scheduler.background import queue
from scheduler.services import advisor

# How long a plan that found every model slot taken waits before it tries again.
SLOT_WAIT_SECONDS = 5


# --8<-- [start:retry]
class UntilASlotIsFree(procrastinate.BaseRetryStrategy):
    """Busy slots are no failure: such a job runs again later, for as long as it takes. The
    model's own failures are retried by its client and end in a `failed` plan, not here."""

    def get_retry_decision(
        self,
        *,
        exception: BaseException,
        job: procrastinate.jobs.Job,  # noqa: ARG002
    ) -> procrastinate.RetryDecision | None:
        """Retry a job that found no free slot; let anything else fail."""
        if isinstance(exception, advisor.AllSlotsBusy):
            return procrastinate.RetryDecision(retry_in={"seconds": SLOT_WAIT_SECONDS})
        return None
        # --8<-- [end:retry]


# --8<-- [start:task]
@queue.task(name="generate_plan", pass_context=True, retry=UntilASlotIsFree())
def generate_plan(context: procrastinate.JobContext, plan_id: int) -> str:
    """Make the plan (or leave it, if it was made already); return its status."""
    config = context.additional_context["config"]
    return advisor.generate_plan(
        context.additional_context["database"],
        provider_for(config),
        config["ADVISOR_CONCURRENCY"],
        plan_id,
    )
    # --8<-- [end:task]
