"""/rooms: where sections meet, and how many they hold."""

from flask import Blueprint

from scheduler.auth import role_required
from scheduler.errors import NotFound
from scheduler.extensions import database
from scheduler.http import created, json_body, page
from scheduler.repositories.rooms import rooms
from scheduler.services import rooms as room_rules
from scheduler.validation import body_schemas, integer, page_params, text, validate
from scheduler_common.db import connection, transaction

bp = Blueprint("rooms", __name__, url_prefix="/rooms")

create_schema, patch_schema = body_schemas({"name": text(100), "capacity": integer(1, 10_000)})


def not_found(room_id: int) -> NotFound:
    """The error for a room id that does not exist."""
    return NotFound(f"No room with id {room_id}.")


@bp.get("")
def list_rooms():
    """List rooms, a page at a time."""
    limit, offset = page_params()
    with connection() as conn:
        items, total = rooms.page(conn, limit, offset)
    return page(items, total, limit, offset)


@bp.post("")
@role_required("admin")
def create_room():
    """Add a room."""
    fields = validate(create_schema, json_body())
    with transaction() as conn:
        room = rooms.create(conn, fields)
    return created(room, ".get_room", room_id=room["id"])


@bp.get("/<id:room_id>")
def get_room(room_id: int):
    """Show one room."""
    with connection() as conn:
        room = rooms.get(conn, room_id)
    if room is None:
        raise not_found(room_id)
    return room


# --8<-- [start:update]
@bp.patch("/<id:room_id>")
@role_required("admin")
def update_room(room_id: int):
    """Change a room; it may not shrink below a section scheduled in it."""
    fields = validate(patch_schema, json_body())
    return room_rules.update_room(database(), room_id, fields)
    # --8<-- [end:update]


@bp.delete("/<id:room_id>")
@role_required("admin")
def delete_room(room_id: int):
    """Remove a room that no section uses."""
    with transaction() as conn:
        if not rooms.delete(conn, room_id):
            raise not_found(room_id)
    return "", 204
