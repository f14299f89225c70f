"""/sections: a course taught by an instructor in a room at set times in one term."""

from flask import Blueprint, request

from scheduler.errors import BadRequest, Conflict, NotFound, ValidationFailed
from scheduler.http import created, json_body, page, page_params, query_int
from scheduler.repositories import enrollments, sections
from scheduler.repositories.courses import courses
from scheduler.repositories.instructors import instructors
from scheduler.repositories.rooms import rooms
from scheduler.validation import (
    TERM_PATTERN,
    body_schemas,
    clock_time,
    integer,
    reference,
    term,
    validate,
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
    }
)

SCHEDULE_FIELDS = ("days", "starts_at", "ends_at")


def not_found(section_id: int) -> NotFound:
    """The error for a section id that does not exist."""
    return NotFound(f"No section with id {section_id}.")


# --8<-- [start:list-filters]
def list_filters() -> dict:
    """Read the optional ?term=, ?course_id=, ?instructor_id=, ?room_id= filters."""
    filters = {name: query_int(name, low=1) for name in ("course_id", "instructor_id", "room_id")}
    filters["term"] = request.args.get("term")
    if filters["term"] is not None and not TERM_PATTERN.fullmatch(filters["term"]):
        raise BadRequest("Query parameter 'term' must look like 2027-spring.")
    return filters
    # --8<-- [end:list-filters]


# --8<-- [start:check-references]
def check_references(conn, fields: dict) -> None:
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
    # --8<-- [end:check-references]


# --8<-- [start:list]
@bp.get("")
def list_sections():
    """List sections with their relations, optionally filtered, a page at a time."""
    filters = list_filters()
    limit, offset = page_params()
    with connection() as conn:
        items, total = sections.page(conn, filters, limit, offset)
    return page(items, total, limit, offset)
    # --8<-- [end:list]


# --8<-- [start:create]
@bp.post("")
def create_section():
    """Schedule a section; the database refuses a double-booked room or instructor (409)."""
    fields = validate(create_schema, json_body())
    with transaction() as conn:
        check_references(conn, fields)
        section_id = sections.sections.create(conn, fields)["id"]
        section = sections.get(conn, section_id)
    return created(section, ".get_section", section_id=section_id)
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
def update_section(section_id: int):
    """Change a section without breaking its room, its seats or its students' timetables."""
    fields = validate(patch_schema, json_body())
    with transaction() as conn:
        current = sections.lock(conn, section_id)
        if current is None:
            raise not_found(section_id)
        merged = {**current, **fields}
        check_references(conn, merged)
        enrolled = enrollments.count(conn, section_id)
        if merged["capacity"] < enrolled:
            raise Conflict(f"{enrolled} students are enrolled; capacity cannot go below that.")
        if enrolled and merged["term"] != current["term"]:
            raise Conflict("Students are enrolled in this term's section; drop them first.")
        if (
            enrolled
            and any(name in fields for name in SCHEDULE_FIELDS)
            and sections.enrolled_students_clash(
                conn, section_id, *(merged[name] for name in SCHEDULE_FIELDS)
            )
        ):
            raise Conflict("The new times clash with an enrolled student's other sections.")
        sections.sections.update(conn, section_id, fields)
        return sections.get(conn, section_id)
    # --8<-- [end:update]


@bp.delete("/<id:section_id>")
def delete_section(section_id: int):
    """Remove a section nobody is enrolled in."""
    with transaction() as conn:
        if not sections.sections.delete(conn, section_id):
            raise not_found(section_id)
    return "", 204
