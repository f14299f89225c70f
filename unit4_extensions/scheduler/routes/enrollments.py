"""/sections/{id}/enrollments: enrolling students, rosters and drops."""

from flask import Blueprint
from voluptuous import Required, Schema

from scheduler.auth import authenticated, current_identity
from scheduler.extensions import database
from scheduler.http import created, json_body, page
from scheduler.services import enrollment
from scheduler.validation import page_params, reference, validate

bp = Blueprint("enrollments", __name__, url_prefix="/sections/<id:section_id>/enrollments")

enroll_schema = Schema({Required("student_id"): reference()})


# --8<-- [start:enroll]
@bp.post("")
@authenticated
def enroll(section_id: int):
    """Enroll a student (oneself, once verified; anyone, for an admin)."""
    student_id = validate(enroll_schema, json_body())["student_id"]
    created_enrollment = enrollment.enroll(database(), current_identity(), section_id, student_id)
    return created(
        created_enrollment, ".get_enrollment", section_id=section_id, student_id=student_id
    )
    # --8<-- [end:enroll]


# --8<-- [start:roster]
@bp.get("")
@authenticated
def list_roster(section_id: int):
    """List the students enrolled in a section (its instructor and admins)."""
    limit, offset = page_params()
    items, total = enrollment.roster(database(), current_identity(), section_id, limit, offset)
    return page(items, total, limit, offset)
    # --8<-- [end:roster]


# --8<-- [start:get-enrollment]
@bp.get("/<id:student_id>")
@authenticated
def get_enrollment(section_id: int, student_id: int):
    """Show one enrollment (to the student, the section's instructor and admins)."""
    return enrollment.get_enrollment(database(), current_identity(), section_id, student_id)
    # --8<-- [end:get-enrollment]


# --8<-- [start:drop]
@bp.delete("/<id:student_id>")
@authenticated
def drop(section_id: int, student_id: int):
    """Drop a student from a section (oneself; anyone, for an admin)."""
    enrollment.drop(database(), current_identity(), section_id, student_id)
    return "", 204
    # --8<-- [end:drop]
