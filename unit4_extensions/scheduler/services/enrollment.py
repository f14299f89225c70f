"""The enrollment rules: who may enroll whom, seats and the waitlist, duplicates, clashes and
credit load, and who may see an enrollment or a roster.

A waiting student is held to the same rules as a seated one: their clashes and credits count
as if they had the seat. The promotion (`promote_next`, run by the background job
`promote_waitlist` after a drop or a raised capacity) can then seat the next in line without
checking anything but the free seat.
"""

from contextlib import suppress

from psycopg import Connection

from scheduler.background import later
from scheduler.identity import Identity
from scheduler.meetings import Meeting
from scheduler.repositories import enrollments, sections
from scheduler.repositories.courses import courses
from scheduler.repositories.students import students
from scheduler.services.access import ensure_student_or_admin, ensure_teaches_or_admin
from scheduler.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from scheduler.services.mail import queue_mail
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


# --8<-- [start:drop]
def drop(database: Database, actor: Identity, section_id: int, student_id: int) -> None:
    """Drop a student from a section, seat or place in line (themselves, or anyone for an
    admin). Nobody is renumbered: positions are counted from the tickets that still wait. A
    freed seat goes to the next in line, in the background."""
    ensure_student_or_admin(actor, student_id)
    with database.transaction() as conn:
        # The section's lock, as enrolling and promoting take it: a promotion never picks
        # a student whose drop is committing at that moment.
        sections.lock(conn, section_id)
        status = enrollments.delete(conn, section_id, student_id)
        if status is None:
            raise NotFound(f"Student {student_id} is not enrolled in section {section_id}.")
        # Deferred on this transaction: a drop that rolls back promotes nobody.
        if status == "enrolled" and enrollments.has_waitlist(conn, section_id):
            later(conn, "promote_waitlist", section_id=section_id)
        # --8<-- [end:drop]


# --8<-- [start:promote-next]
def promote_next(database: Database, section_id: int) -> dict | None:
    """Seat the next in the section's line if a seat is free, and mail them in the same
    transaction; return that enrollment, or None. One promotion per transaction, under the
    section's lock as enrolling takes it: the background job `promote_waitlist` calls it."""
    with database.transaction() as conn:
        section = sections.lock(conn, section_id)
        if section is None:
            raise NotFound(f"No section with id {section_id}.")
        # The seat check, under the lock: a job run twice, or two at once, seats nobody twice.
        if enrollments.count(conn, section_id) >= section["capacity"]:
            return None
        promoted = enrollments.promote_next(conn, section_id)
        if promoted is not None:
            tell_promoted_student(conn, section, promoted["student_id"])
        return promoted
        # --8<-- [end:promote-next]


# --8<-- [start:fill-free-seats]
def fill_free_seats(database: Database, section_id: int) -> list[dict]:
    """Seat the next in line until no seat is free or nobody waits; return the enrollments
    made. A section deleted meanwhile has nobody left to seat: that is no error."""
    promoted: list[dict] = []
    # One transaction per seat, so each one's lock is short and every seat given is kept.
    with suppress(NotFound):
        while (enrollment := promote_next(database, section_id)) is not None:
            promoted.append(enrollment)
    return promoted
    # --8<-- [end:fill-free-seats]


def tell_promoted_student(conn: Connection, section: dict, student_id: int) -> None:
    """Queue the mail that tells a student they left the waitlist for a seat."""
    student = students.get(conn, student_id)
    course = courses.get(conn, section["course_id"])
    queue_mail(
        conn,
        student["email"],
        f"You have a seat in {course['code']}",
        f"Hello {student['full_name']},\n\n"
        f"A seat freed up: you have a seat in {course['code']} ({course['title']}), "
        f"section {section['id']}, term {section['term']}. You are no longer on its waitlist; "
        "it is in your schedule now.\n\n"
        "If you no longer want it, drop it so that the next student in line gets it.",
    )


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
