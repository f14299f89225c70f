"""/students: the people who enroll, and their schedules."""

from flask import Blueprint

from scheduler.auth import authenticated, current_identity, role_required
from scheduler.extensions import database
from scheduler.http import created, json_body, page
from scheduler.repositories.students import students
from scheduler.services import people
from scheduler.services.errors import NotFound
from scheduler.validation import body_schemas, email, page_params, text, validate
from scheduler_common.db import connection, transaction

bp = Blueprint("students", __name__, url_prefix="/students")

create_schema, patch_schema = body_schemas({"full_name": text(200), "email": email})


def not_found(student_id: int) -> NotFound:
    """The error for a student id that does not exist."""
    return NotFound(f"No student with id {student_id}.")


@bp.get("")
@role_required("admin")
def list_students():
    """List students, a page at a time."""
    limit, offset = page_params()
    with connection() as conn:
        items, total = students.page(conn, limit, offset)
    return page(items, total, limit, offset)


@bp.post("")
@role_required("admin")
def create_student():
    """Add a student."""
    fields = validate(create_schema, json_body())
    with transaction() as conn:
        student = students.create(conn, fields)
    return created(student, ".get_student", student_id=student["id"])


# --8<-- [start:own-record]
@bp.get("/<id:student_id>")
@authenticated
def get_student(student_id: int):
    """Show one student (themselves, or anyone to an admin)."""
    return people.get_student(database(), current_identity(), student_id)


@bp.patch("/<id:student_id>")
@authenticated
def update_student(student_id: int):
    """Change a student's name (their own), or any field (an admin)."""
    fields = validate(patch_schema, json_body())
    return people.update_student(database(), current_identity(), student_id, fields)
    # --8<-- [end:own-record]


@bp.delete("/<id:student_id>")
@role_required("admin")
def delete_student(student_id: int):
    """Remove a student who holds no enrollment."""
    with transaction() as conn:
        if not students.delete(conn, student_id):
            raise not_found(student_id)
    return "", 204


# --8<-- [start:schedule]
@bp.get("/<id:student_id>/schedule")
@authenticated
def get_schedule(student_id: int):
    """List the sections a student is enrolled in, with course, instructor and room."""
    limit, offset = page_params()
    items, total = people.student_schedule(
        database(), current_identity(), student_id, limit, offset
    )
    return page(items, total, limit, offset)
    # --8<-- [end:schedule]
