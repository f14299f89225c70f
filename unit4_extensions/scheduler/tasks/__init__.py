"""The background jobs the worker runs; each module registers its tasks on the queue.

Tasks are the queue's edge, as routes are HTTP's: each one takes the worker's context, calls
a service and leaves the rules to it. Every task is idempotent (a job may run again after a
worker died in it) and retried with backoff.
"""

from scheduler.tasks import advisor, mail, maintenance, purge, waitlist

__all__ = ["advisor", "mail", "maintenance", "purge", "waitlist"]
