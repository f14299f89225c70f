"""Ownership rules: whose records a caller may see and change (who may call an endpoint at
all is the routes' role decorators' business)."""

from scheduler.identity import Identity
from scheduler.services.errors import Forbidden


# --8<-- [start:ownership]
def ensure_student_or_admin(actor: Identity, student_id: int) -> None:
    """A student reaches only their own student record, schedule and enrollments."""
    if not actor.is_admin and actor.student_id != student_id:
        raise Forbidden("Students may only see and change their own records.")


def ensure_teaches_or_admin(actor: Identity, section: dict) -> None:
    """An instructor reaches only the sections they teach."""
    if not actor.is_admin and (
        actor.instructor_id is None or actor.instructor_id != section["instructor_id"]
    ):
        raise Forbidden("Only the section's instructor or an admin may do this.")
        # --8<-- [end:ownership]
