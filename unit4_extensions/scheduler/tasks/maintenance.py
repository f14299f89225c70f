"""Keeping the queue itself healthy: jobs of a worker that died are run again."""

import procrastinate

from scheduler.background import queue


# --8<-- [start:retry-stalled]
@queue.periodic(cron="* * * * *", periodic_id="retry-stalled-jobs")
@queue.task(name="retry_stalled_jobs", queueing_lock="retry_stalled_jobs", pass_context=True)
# procrastinate hands a periodic job the time it was due for, as `timestamp`.
async def retry_stalled_jobs(context: procrastinate.JobContext, timestamp: int) -> int:  # noqa: ARG001
    """Once a minute: put the jobs of workers that stopped beating back in the queue; return
    how many."""
    # A worker beats its heart in the database every WORKER_HEARTBEAT seconds; one silent for
    # WORKER_STALLED_AFTER is dead (killed, or its host lost), and its jobs are run again.
    silent_for = context.additional_context["config"]["WORKER_STALLED_AFTER"]
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=silent_for)
    count = 0
    for job in stalled:
        await manager.retry_job(job)
        count += 1
    return count
    # --8<-- [end:retry-stalled]
