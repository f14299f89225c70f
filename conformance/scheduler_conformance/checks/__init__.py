"""The checks, one module per unit; importing a module registers its checks."""

import threading
from concurrent.futures import ThreadPoolExecutor

from scheduler_conformance.http import Reply


def all_at_once(calls: list) -> list[Reply]:
    """Run the calls in threads that start together (a barrier), for races; return the
    replies in the order of the calls."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        """Wait for every other runner, then make the call."""
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def statuses(replies: list[Reply]) -> list[int]:
    """The status codes of the replies, sorted."""
    return sorted(reply.status for reply in replies)


def odd_one_out(replies: list[Reply], successes: int) -> Reply:
    """The reply that proves a race went wrong: a 201 too many, else the first unexpected one."""
    created = [reply for reply in replies if reply.status == 201]
    if len(created) > successes:
        return created[successes]
    return next((reply for reply in replies if reply.status not in (201, 409)), replies[0])
