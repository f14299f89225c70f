"""/sections: a course taught by an instructor in a room at set times in one term."""

from flask import Blueprint
from voluptuous import Optional, Schema

from scheduler.auth import current_identity, role_required
from scheduler.errors import NotFound
from scheduler.extensions import database
from scheduler.http import MAX_ID, created, json_body, page
from scheduler.repositories import sections
from scheduler.services.sections import create_section as schedule_section
from scheduler.services.sections import update_section as change_section
from scheduler.validation import (
    PAGE_QUERY,
    body_schemas,
    clock_time,
    integer,
    query_integer,
    query_term,
    reference,
    term,
    text,
    validate,
    validate_query,
    weekdays,
)
from scheduler_common.db import connection, transaction

bp = Blueprint("sections", __name__, url_prefix="/sections")

create_schema, patch_schema = body_schemas(
    {
        "course_id": reference(),
        "instructor_id": reference(),
        "room_id": reference(),
        "term": term,
        "capacity": integer(1, 10_000),
        "days": weekdays,
        "starts_at": clock_time,
        "ends_at": clock_time,
        "notes": text(2000, blank=True),
    },
    optional=("notes",),
)

# --8<-- [start:list-filters]
LIST_QUERY = Schema(
    {
        **PAGE_QUERY,
        Optional("term"): query_term,
        Optional("course_id"): query_integer(1, MAX_ID),
        Optional("instructor_id"): query_integer(1, MAX_ID),
        Optional("room_id"): query_integer(1, MAX_ID),
    }
)
# --8<-- [end:list-filters]


def not_found(section_id: int) -> NotFound:
    """The error for a section id that does not exist."""
    return NotFound(f"No section with id {section_id}.")


# --8<-- [start:list]
@bp.get("")
def list_sections():
    """List sections with their relations, optionally filtered, a page at a time."""
    query = validate_query(LIST_QUERY)
    limit, offset = query.pop("limit"), query.pop("offset")
    with connection() as conn:
        items, total = sections.page(conn, query, limit, offset)
    return page(items, total, limit, offset)
    # --8<-- [end:list]


# --8<-- [start:create]
@bp.post("")
@role_required("admin")
def create_section():
    """Schedule a section (admins)."""
    fields = validate(create_schema, json_body())
    section = schedule_section(database(), fields)
    return created(section, ".get_section", section_id=section["id"])
    # --8<-- [end:create]


@bp.get("/<id:section_id>")
def get_section(section_id: int):
    """Show one section with its relations and seats."""
    with connection() as conn:
        section = sections.get(conn, section_id)
    if section is None:
        raise not_found(section_id)
    return section


# --8<-- [start:update]
@bp.patch("/<id:section_id>")
@role_required("admin", "instructor")
def update_section(section_id: int):
    """Change a section (admins), or the notes of one's own section (instructors)."""
    fields = validate(patch_schema, json_body())
    return change_section(database(), current_identity(), section_id, fields)
    # --8<-- [end:update]


@bp.delete("/<id:section_id>")
@role_required("admin")
def delete_section(section_id: int):
    """Remove a section nobody is enrolled in."""
    with transaction() as conn:
        if not sections.sections.delete(conn, section_id):
            raise not_found(section_id)
    return "", 204
