"""SQL for rooms."""

from psycopg import Connection

from scheduler.repositories.table import TableRepository

rooms = TableRepository("rooms", ("id", "name", "capacity"))


def largest_section_capacity(conn: Connection, room_id: int) -> int:
    """Return the largest capacity of any section scheduled in the room (0 if none)."""
    return conn.execute(
        "SELECT coalesce(max(capacity), 0) AS largest FROM sections WHERE room_id = %s",
        (room_id,),
    ).fetchone()["largest"]
