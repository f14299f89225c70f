"""/instructors: the people who teach sections."""

from flask import Blueprint

from scheduler.errors import NotFound
from scheduler.http import created, json_body, page, page_params
from scheduler.repositories.instructors import instructors
from scheduler.validation import body_schemas, email, text, validate
from scheduler_common.db import connection, transaction

bp = Blueprint("instructors", __name__, url_prefix="/instructors")

create_schema, patch_schema = body_schemas({"full_name": text(200), "email": email})


def not_found(instructor_id: int) -> NotFound:
    """The error for an instructor id that does not exist."""
    return NotFound(f"No instructor with id {instructor_id}.")


@bp.get("")
def list_instructors():
    """List instructors, a page at a time."""
    limit, offset = page_params()
    with connection() as conn:
        items, total = instructors.page(conn, limit, offset)
    return page(items, total, limit, offset)


@bp.post("")
def create_instructor():
    """Add an instructor."""
    fields = validate(create_schema, json_body())
    with transaction() as conn:
        instructor = instructors.create(conn, fields)
    return created(instructor, ".get_instructor", instructor_id=instructor["id"])


@bp.get("/<id:instructor_id>")
def get_instructor(instructor_id: int):
    """Show one instructor."""
    with connection() as conn:
        instructor = instructors.get(conn, instructor_id)
    if instructor is None:
        raise not_found(instructor_id)
    return instructor


@bp.patch("/<id:instructor_id>")
def update_instructor(instructor_id: int):
    """Change some of an instructor's fields."""
    fields = validate(patch_schema, json_body())
    with transaction() as conn:
        instructor = instructors.update(conn, instructor_id, fields)
    if instructor is None:
        raise not_found(instructor_id)
    return instructor


@bp.delete("/<id:instructor_id>")
def delete_instructor(instructor_id: int):
    """Remove an instructor who teaches no section."""
    with transaction() as conn:
        if not instructors.delete(conn, instructor_id):
            raise not_found(instructor_id)
    return "", 204
