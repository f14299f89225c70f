"""The enrollment rules: who may enroll whom, seats and the waitlist, duplicates, clashes and
credit load, and who may see an enrollment or a roster.

A waiting student is held to the same rules as a seated one: their clashes and credits count
as if they had the seat. The promotion (`promote_next`, the next issue's background job) can
then seat the next in line without checking anything but the free seat.
"""

from psycopg import Connection

from scheduler.identity import Identity
from scheduler.meetings import Meeting
from scheduler.repositories import enrollments, sections
from scheduler.repositories.students import students
from scheduler.services.access import ensure_student_or_admin, ensure_teaches_or_admin
from scheduler.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from scheduler.unit_of_work import Database

MAX_CREDITS_PER_TERM = 18


# --8<-- [start:enroll]
def enroll(database: Database, actor: Identity, section_id: int, student_id: int) -> dict:
    """Enroll a student, or put them on the waitlist of a full section: never twice, never
    into a clash or overload."""
    # --8<-- [start:who-may-enroll]
    ensure_student_or_admin(actor, student_id)
    if not actor.is_admin and not actor.is_verified:
        raise Forbidden("Verify your email address before enrolling (see POST /auth/verify).")
    # --8<-- [end:who-may-enroll]
    with database.transaction() as conn:
        # Lock the section, then the student: concurrent requests for the last seat, or for
        # two clashing sections of one student, queue here instead of racing.
        section = sections.lock(conn, section_id)
        if section is None:
            raise NotFound(f"No section with id {section_id}.")
        if students.get(conn, student_id, lock=True) is None:
            raise ValidationFailed(
                "The student does not exist.",
                {"student_id": [f"No student with id {student_id}."]},
            )
        found = check_duplicate_and_timetable(conn, section, student_id)
        # --8<-- [start:waitlisted]
        # While anyone waits, a freed seat is theirs: a newcomer joins the end of the line.
        if found["enrolled"] < section["capacity"] and not found["waiting"]:
            return enrollments.create(conn, section_id, student_id)
        return enrollments.create(conn, section_id, student_id, position=found["waiting"] + 1)
        # --8<-- [end:waitlisted]
        # --8<-- [end:enroll]


def check_duplicate_and_timetable(conn: Connection, section: dict, student_id: int) -> dict:
    """Refuse (409) a duplicate (seated or waiting), a timetable clash or a credit overload, in
    that order; return what was found (the seats taken, how many wait)."""
    found = enrollments.seat_and_timetable(conn, section["id"], student_id)
    if found["already_waiting"]:
        raise Conflict("The student is already on this section's waitlist.")
    if found["already_enrolled"]:
        raise Conflict("The student is already enrolled in this section.")
    clash = found["clash"]
    if clash:
        raise Conflict(
            f"The section clashes with the student's section {clash['id']} "
            f"({clash['code']}) in the same term: both meet "
            f"{Meeting.of(section).overlap_with(Meeting.of(clash))}."
        )
    # --8<-- [start:credit-limit]
    if found["credits"] > MAX_CREDITS_PER_TERM:
        raise Conflict(
            f"This section would bring the student to {found['credits']} credits this term; "
            f"the most is {MAX_CREDITS_PER_TERM}."
        )
    # --8<-- [end:credit-limit]
    return found


def drop(database: Database, actor: Identity, section_id: int, student_id: int) -> None:
    """Drop a student from a section, seat or place in line (themselves, or anyone for an
    admin). Nobody is renumbered: positions are counted from the tickets that still wait."""
    ensure_student_or_admin(actor, student_id)
    with database.transaction() as conn:
        # The section's lock, as enrolling and promoting take it: a promotion never picks
        # a student whose drop is committing at that moment.
        sections.lock(conn, section_id)
        if not enrollments.delete(conn, section_id, student_id):
            raise NotFound(f"Student {student_id} is not enrolled in section {section_id}.")


# --8<-- [start:promote-next]
def promote_next(database: Database, section_id: int) -> dict | None:
    """Seat the next in the section's line if a seat is free; return that enrollment, or
    None. The seam for the next issue's background job: nothing calls it on a request."""
    with database.transaction() as conn:
        section = sections.lock(conn, section_id)
        if section is None:
            raise NotFound(f"No section with id {section_id}.")
        if enrollments.count(conn, section_id) >= section["capacity"]:
            return None
        return enrollments.promote_next(conn, section_id)
        # --8<-- [end:promote-next]


# --8<-- [start:roster]
def roster(
    database: Database, actor: Identity, section_id: int, limit: int, offset: int
) -> tuple[list[dict], int]:
    """A page of a section's students, for its instructor and admins."""
    with database.connection() as conn:
        section = existing_section(conn, section_id)
        ensure_teaches_or_admin(actor, section)
        return enrollments.roster(conn, section_id, limit, offset)


def get_enrollment(database: Database, actor: Identity, section_id: int, student_id: int) -> dict:
    """One enrollment, for its student, the section's instructor and admins."""
    with database.connection() as conn:
        section = existing_section(conn, section_id)
        if actor.student_id != student_id:
            ensure_teaches_or_admin(actor, section)
        found = enrollments.get(conn, section_id, student_id)
    if found is None:
        raise NotFound(f"Student {student_id} is not enrolled in section {section_id}.")
    return found
    # --8<-- [end:roster]


def existing_section(conn: Connection, section_id: int) -> dict:
    """The section's row, or NotFound."""
    section = sections.sections.get(conn, section_id)
    if section is None:
        raise NotFound(f"No section with id {section_id}.")
    return section
