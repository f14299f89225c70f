"""/sections/{id}/enrollments: enrolling students, rosters and drops."""

from flask import Blueprint
from voluptuous import Required, Schema

from scheduler.auth import authenticated, current_identity
from scheduler.errors import NotFound
from scheduler.http import created, json_body, page
from scheduler.repositories import enrollments, sections
from scheduler.services import enrollment
from scheduler.services.access import ensure_teaches_or_admin
from scheduler.validation import page_params, reference, validate
from scheduler_common.db import transaction

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
@authenticated
def enroll(section_id: int):
    """Enroll a student (oneself, once verified; anyone, for an admin)."""
    student_id = validate(enroll_schema, json_body())["student_id"]
    with transaction() as conn:
        created_enrollment = enrollment.enroll(conn, current_identity(), section_id, student_id)
    return created(
        created_enrollment, ".get_enrollment", section_id=section_id, student_id=student_id
    )
    # --8<-- [end:enroll]


# --8<-- [start:roster]
@bp.get("")
@authenticated
def list_roster(section_id: int):
    """List the students enrolled in a section (its instructor and admins)."""
    with transaction() as conn:
        section = sections.sections.get(conn, section_id)
        if section is None:
            raise section_not_found(section_id)
        ensure_teaches_or_admin(current_identity(), section)
        limit, offset = page_params()
        items, total = enrollments.roster(conn, section_id, limit, offset)
    return page(items, total, limit, offset)
    # --8<-- [end:roster]


# --8<-- [start:get-enrollment]
@bp.get("/<id:student_id>")
@authenticated
def get_enrollment(section_id: int, student_id: int):
    """Show one enrollment (to the student, the section's instructor and admins)."""
    actor = current_identity()
    with transaction() as conn:
        section = sections.sections.get(conn, section_id)
        if section is None:
            raise section_not_found(section_id)
        if actor.student_id != student_id:
            ensure_teaches_or_admin(actor, section)
        found = enrollments.get(conn, section_id, student_id)
    if found is None:
        raise not_enrolled(section_id, student_id)
    return found
    # --8<-- [end:get-enrollment]


# --8<-- [start:drop]
@bp.delete("/<id:student_id>")
@authenticated
def drop(section_id: int, student_id: int):
    """Drop a student from a section (oneself; anyone, for an admin)."""
    with transaction() as conn:
        enrollment.drop(conn, current_identity(), section_id, student_id)
    return "", 204
    # --8<-- [end:drop]
