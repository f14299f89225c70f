"""/sections/{id}/enrollments: enrolling students, rosters and drops."""

from flask import Blueprint
from voluptuous import Required, Schema

from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.http import created, json_body, page, page_params
from scheduler.repositories import enrollments, sections
from scheduler.repositories.students import students
from scheduler.validation import reference, validate
from scheduler_common.db import connection, transaction

bp = Blueprint("enrollments", __name__, url_prefix="/sections/<id:section_id>/enrollments")

enroll_schema = Schema({Required("student_id"): reference()})


def section_not_found(section_id: int) -> NotFound:
    """The error for a section id that does not exist."""
    return NotFound(f"No section with id {section_id}.")


def not_enrolled(section_id: int, student_id: int) -> NotFound:
    """The error for an enrollment that does not exist."""
    return NotFound(f"Student {student_id} is not enrolled in section {section_id}.")


# --8<-- [start:enroll]
@bp.post("")
def enroll(section_id: int):
    """Enroll a student: never past capacity, never twice, never into a timetable clash."""
    student_id = validate(enroll_schema, json_body())["student_id"]
    with transaction() as conn:
        # Lock the section, then the student: concurrent requests for the last seat, or
        # for two clashing sections of one student, queue here instead of racing.
        section = sections.lock(conn, section_id)
        if section is None:
            raise section_not_found(section_id)
        if students.get(conn, student_id, lock=True) is None:
            raise ValidationFailed(
                "The student does not exist.", {"student_id": [f"No student with id {student_id}."]}
            )
        # Every rule from one look-up, checked in this order: twice, full, clash.
        found = enrollments.seat_and_timetable(conn, section_id, student_id)
        if found["already_enrolled"]:
            raise Conflict("The student is already enrolled in this section.")
        if found["enrolled"] >= section["capacity"]:
            raise Conflict("The section is full.")
        clash = found["clash"]
        if clash:
            raise Conflict(
                f"The section clashes with the student's section {clash['id']} "
                f"({clash['code']}) in the same term."
            )
        enrollment = enrollments.create(conn, section_id, student_id)
    return created(enrollment, ".get_enrollment", section_id=section_id, student_id=student_id)
    # --8<-- [end:enroll]


# --8<-- [start:roster]
@bp.get("")
def list_roster(section_id: int):
    """List the students enrolled in a section, a page at a time."""
    limit, offset = page_params()
    with connection() as conn:
        if sections.sections.get(conn, section_id) is None:
            raise section_not_found(section_id)
        items, total = enrollments.roster(conn, section_id, limit, offset)
    return page(items, total, limit, offset)
    # --8<-- [end:roster]


@bp.get("/<id:student_id>")
def get_enrollment(section_id: int, student_id: int):
    """Show one student's enrollment in a section."""
    with connection() as conn:
        enrollment = enrollments.get(conn, section_id, student_id)
    if enrollment is None:
        raise not_enrolled(section_id, student_id)
    return enrollment


@bp.delete("/<id:student_id>")
def drop(section_id: int, student_id: int):
    """Drop a student from a section."""
    with transaction() as conn:
        if not enrollments.delete(conn, section_id, student_id):
            raise not_enrolled(section_id, student_id)
    return "", 204
