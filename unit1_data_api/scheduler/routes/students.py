"""/students: the people who enroll, and their schedules."""

from flask import Blueprint

from scheduler.errors import NotFound
from scheduler.http import created, json_body, page, page_params
from scheduler.repositories import sections
from scheduler.repositories.students import students
from scheduler.validation import body_schemas, email, text, validate
from scheduler_common.db import connection, transaction

bp = Blueprint("students", __name__, url_prefix="/students")

create_schema, patch_schema = body_schemas({"full_name": text(200), "email": email})


def not_found(student_id: int) -> NotFound:
    """The error for a student id that does not exist."""
    return NotFound(f"No student with id {student_id}.")


@bp.get("")
def list_students():
    """List students, a page at a time."""
    limit, offset = page_params()
    with connection() as conn:
        items, total = students.page(conn, limit, offset)
    return page(items, total, limit, offset)


@bp.post("")
def create_student():
    """Add a student."""
    fields = validate(create_schema, json_body())
    with transaction() as conn:
        student = students.create(conn, fields)
    return created(student, ".get_student", student_id=student["id"])


@bp.get("/<id:student_id>")
def get_student(student_id: int):
    """Show one student."""
    with connection() as conn:
        student = students.get(conn, student_id)
    if student is None:
        raise not_found(student_id)
    return student


@bp.patch("/<id:student_id>")
def update_student(student_id: int):
    """Change some of a student's fields."""
    fields = validate(patch_schema, json_body())
    with transaction() as conn:
        student = students.update(conn, student_id, fields)
    if student is None:
        raise not_found(student_id)
    return student


@bp.delete("/<id:student_id>")
def delete_student(student_id: int):
    """Remove a student who holds no enrollment."""
    with transaction() as conn:
        if not students.delete(conn, student_id):
            raise not_found(student_id)
    return "", 204


# --8<-- [start:schedule]
@bp.get("/<id:student_id>/schedule")
def get_schedule(student_id: int):
    """List the sections a student is enrolled in, with course, instructor and room."""
    limit, offset = page_params()
    with connection() as conn:
        if students.get(conn, student_id) is None:
            raise not_found(student_id)
        items, total = sections.page(conn, {"student_id": student_id}, limit, offset)
    return page(items, total, limit, offset)
    # --8<-- [end:schedule]
