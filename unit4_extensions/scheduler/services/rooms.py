"""Room rules: a room never shrinks below a section scheduled in it."""

from scheduler.repositories.rooms import largest_section_capacity, rooms
from scheduler.services.errors import Conflict, NotFound
from scheduler.unit_of_work import Database


def update_room(database: Database, room_id: int, fields: dict) -> dict:
    """Change a room's fields, refusing a capacity below its largest section's."""
    with database.transaction() as conn:
        # Lock the room first: a section created meanwhile cannot slip past the check.
        if rooms.get(conn, room_id, lock=True) is None:
            raise NotFound(f"No room with id {room_id}.")
        largest = largest_section_capacity(conn, room_id)
        if fields.get("capacity", largest) < largest:
            raise Conflict(
                f"A section in this room holds {largest} students; the room cannot hold fewer."
            )
        return rooms.update(conn, room_id, fields)
