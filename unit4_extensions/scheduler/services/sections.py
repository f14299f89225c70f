"""Section rules: real references, a room big enough, and no broken timetables."""

from psycopg import Connection

from scheduler.background import later
from scheduler.identity import Identity
from scheduler.repositories import enrollments, sections
from scheduler.repositories.courses import courses
from scheduler.repositories.instructors import instructors
from scheduler.repositories.rooms import rooms
from scheduler.services.access import ensure_teaches_or_admin
from scheduler.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from scheduler.unit_of_work import Database

# --8<-- [start:instructor-fields]
SCHEDULE_FIELDS = ("days", "starts_at", "ends_at")
INSTRUCTOR_FIELDS = {"notes"}  # what an instructor may change on their own sections
# --8<-- [end:instructor-fields]


def check_references(conn: Connection, fields: dict) -> None:
    """Fail with 422 naming each referenced course, instructor or room that does not exist,
    and when the room is too small for the section."""
    errors: dict[str, list[str]] = {}
    for field, repository, noun in (
        ("course_id", courses, "course"),
        ("instructor_id", instructors, "instructor"),
    ):
        if repository.get(conn, fields[field]) is None:
            errors[field] = [f"No {noun} with id {fields[field]}."]
    # Locked, so the room cannot shrink under a section being scheduled into it.
    room = rooms.get(conn, fields["room_id"], lock=True)
    if room is None:
        errors["room_id"] = [f"No room with id {fields['room_id']}."]
    elif fields["capacity"] > room["capacity"]:
        errors["capacity"] = [f"Must not exceed the room's capacity ({room['capacity']})."]
    if errors:
        raise ValidationFailed("The section refers to missing or unsuitable records.", errors)


def create_section(database: Database, fields: dict) -> dict:
    """Schedule a section; the database refuses a double-booked room or instructor (409)."""
    with database.transaction() as conn:
        check_references(conn, fields)
        section_id = sections.sections.create(conn, fields)["id"]
        return sections.get(conn, section_id)


# --8<-- [start:update]
def update_section(database: Database, actor: Identity, section_id: int, fields: dict) -> dict:
    """Change a section without breaking its room, its seats or its students' timetables.

    Admins may change anything; an instructor only the notes of a section they teach. Seats
    a raised capacity adds go to the waitlist, by the background job `promote_waitlist`.
    """
    with database.transaction() as conn:
        current = sections.lock(conn, section_id)
        if current is None:
            raise NotFound(f"No section with id {section_id}.")
        if not actor.is_admin:
            ensure_teaches_or_admin(actor, current)
            if not set(fields) <= INSTRUCTOR_FIELDS:
                raise Forbidden("Instructors may only change the notes of their own sections.")
        merged = {**current, **fields}
        check_references(conn, merged)
        check_enrolled_students(conn, current, merged, fields)
        sections.sections.update(conn, section_id, fields)
        # New seats go to the line, in the background and only if this change commits.
        if merged["capacity"] > current["capacity"] and enrollments.has_waitlist(conn, section_id):
            later(conn, "promote_waitlist", section_id=section_id)
        return sections.get(conn, section_id)
        # --8<-- [end:update]


def check_enrolled_students(conn: Connection, current: dict, merged: dict, fields: dict) -> None:
    """Refuse (409) a change that would leave enrolled students without a seat, or enrolled
    or waiting students in another term or with a clash in their timetables."""
    enrolled = enrollments.count(conn, current["id"])
    if merged["capacity"] < enrolled:
        raise Conflict(f"{enrolled} students are enrolled; capacity cannot go below that.")
    # Waiting students count as if seated (see services/enrollment.py).
    anyone = enrolled or enrollments.has_waitlist(conn, current["id"])
    if anyone and merged["term"] != current["term"]:
        raise Conflict("Students are enrolled in this term's section; drop them first.")
    if (
        anyone
        and any(name in fields for name in SCHEDULE_FIELDS)
        and sections.enrolled_students_clash(
            conn, current["id"], *(merged[name] for name in SCHEDULE_FIELDS)
        )
    ):
        raise Conflict("The new times clash with an enrolled student's other sections.")
