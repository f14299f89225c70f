"""/courses: the catalog's courses."""

from flask import Blueprint

from scheduler.auth import role_required
from scheduler.http import created, json_body, page
from scheduler.repositories.courses import courses
from scheduler.services.errors import NotFound
from scheduler.validation import body_schemas, course_code, integer, page_params, text, validate
from scheduler_common.db import connection, transaction

# --8<-- [start:schemas]
bp = Blueprint("courses", __name__, url_prefix="/courses")

create_schema, patch_schema = body_schemas(
    {
        "code": course_code,
        "title": text(200),
        "description": text(5000, blank=True),
        "credits": integer(1, 12),
    },
    optional=("description",),
)
# --8<-- [end:schemas]


def not_found(course_id: int) -> NotFound:
    """The error for a course id that does not exist."""
    return NotFound(f"No course with id {course_id}.")


# --8<-- [start:list]
@bp.get("")
def list_courses():
    """List courses, a page at a time."""
    limit, offset = page_params()
    with connection() as conn:
        items, total = courses.page(conn, limit, offset)
    return page(items, total, limit, offset)
    # --8<-- [end:list]


# --8<-- [start:create]
@bp.post("")
@role_required("admin")
def create_course():
    """Add a course to the catalog."""
    fields = validate(create_schema, json_body())
    with transaction() as conn:
        course = courses.create(conn, fields)
    return created(course, ".get_course", course_id=course["id"])
    # --8<-- [end:create]


# --8<-- [start:get]
@bp.get("/<id:course_id>")
def get_course(course_id: int):
    """Show one course."""
    with connection() as conn:
        course = courses.get(conn, course_id)
    if course is None:
        raise not_found(course_id)
    return course
    # --8<-- [end:get]


# --8<-- [start:patch]
@bp.patch("/<id:course_id>")
@role_required("admin")
def update_course(course_id: int):
    """Change some of a course's fields."""
    fields = validate(patch_schema, json_body())
    with transaction() as conn:
        course = courses.update(conn, course_id, fields)
    if course is None:
        raise not_found(course_id)
    return course
    # --8<-- [end:patch]


# --8<-- [start:delete]
@bp.delete("/<id:course_id>")
@role_required("admin")
def delete_course(course_id: int):
    """Remove a course that no section uses."""
    with transaction() as conn:
        if not courses.delete(conn, course_id):
            raise not_found(course_id)
    return "", 204
    # --8<-- [end:delete]
