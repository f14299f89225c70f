"""The enrollment rules: who may enroll whom, seats, duplicates, clashes and credit load."""

from psycopg import Connection

from scheduler.auth import Identity
from scheduler.errors import Conflict, Forbidden, NotFound, ValidationFailed
from scheduler.repositories import enrollments, sections
from scheduler.repositories.students import students
from scheduler.services.access import ensure_student_or_admin

MAX_CREDITS_PER_TERM = 18


def enroll(conn: Connection, actor: Identity, section_id: int, student_id: int) -> dict:
    """Enroll a student: never past capacity, never twice, never into a clash or overload."""
    # --8<-- [start:who-may-enroll]
    ensure_student_or_admin(actor, student_id)
    if not actor.is_admin and not actor.is_verified:
        raise Forbidden("Verify your email address before enrolling (see POST /auth/verify).")
    # --8<-- [end:who-may-enroll]
    # Lock the section, then the student: concurrent requests for the last seat, or for
    # two clashing sections of one student, queue here instead of racing.
    section = sections.lock(conn, section_id)
    if section is None:
        raise NotFound(f"No section with id {section_id}.")
    if students.get(conn, student_id, lock=True) is None:
        raise ValidationFailed(
            "The student does not exist.", {"student_id": [f"No student with id {student_id}."]}
        )
    if enrollments.get(conn, section_id, student_id):
        raise Conflict("The student is already enrolled in this section.")
    if enrollments.count(conn, section_id) >= section["capacity"]:
        raise Conflict("The section is full.")
    clash = enrollments.clashing_section(conn, section_id, student_id)
    if clash:
        raise Conflict(
            f"The section clashes with the student's section {clash['id']} "
            f"({clash['code']}) in the same term."
        )
    # --8<-- [start:credit-limit]
    credits = enrollments.credits_with(conn, section_id, student_id)
    if credits > MAX_CREDITS_PER_TERM:
        raise Conflict(
            f"This section would bring the student to {credits} credits this term; "
            f"the most is {MAX_CREDITS_PER_TERM}."
        )
    # --8<-- [end:credit-limit]
    return enrollments.create(conn, section_id, student_id)


def drop(conn: Connection, actor: Identity, section_id: int, student_id: int) -> None:
    """Drop a student from a section (themselves, or anyone for an admin)."""
    ensure_student_or_admin(actor, student_id)
    if not enrollments.delete(conn, section_id, student_id):
        raise NotFound(f"Student {student_id} is not enrolled in section {section_id}.")
