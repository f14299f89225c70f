"""The CRUD statements every plain table shares, written once."""

from psycopg import Connection, sql


class TableRepository:
    """Plain create/read/update/delete on one table whose rows are served as they are stored."""

    def __init__(self, table: str, columns: tuple[str, ...]):
        self.table = sql.Identifier(table)
        self.column_list = sql.SQL(", ").join(map(sql.Identifier, columns))

    def page(self, conn: Connection, limit: int, offset: int) -> tuple[list[dict], int]:
        """Return one page of rows in id order, and how many rows there are in all."""
        total = conn.execute(
            sql.SQL("SELECT count(*) AS total FROM {}").format(self.table)
        ).fetchone()["total"]
        rows = conn.execute(
            sql.SQL("SELECT {} FROM {} ORDER BY id LIMIT %s OFFSET %s").format(
                self.column_list, self.table
            ),
            (limit, offset),
        ).fetchall()
        return rows, total

    def get(self, conn: Connection, row_id: int, *, lock: bool = False) -> dict | None:
        """Return one row by id, or None; `lock` holds it until the transaction ends."""
        query = sql.SQL("SELECT {} FROM {} WHERE id = %s").format(self.column_list, self.table)
        if lock:
            query += sql.SQL(" FOR UPDATE")
        return conn.execute(query, (row_id,)).fetchone()

    def create(self, conn: Connection, fields: dict) -> dict:
        """Insert a row from validated fields and return it."""
        return conn.execute(
            sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}").format(
                self.table,
                sql.SQL(", ").join(map(sql.Identifier, fields)),
                sql.SQL(", ").join(map(sql.Placeholder, fields)),
                self.column_list,
            ),
            fields,
        ).fetchone()

    def update(self, conn: Connection, row_id: int, fields: dict) -> dict | None:
        """Change the given fields of one row and return it, or None if there is no such row."""
        if not fields:
            return self.get(conn, row_id)
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name))
            for name in fields
        )
        return conn.execute(
            sql.SQL("UPDATE {} SET {} WHERE id = %(id)s RETURNING {}").format(
                self.table, assignments, self.column_list
            ),
            {**fields, "id": row_id},
        ).fetchone()

    def delete(self, conn: Connection, row_id: int) -> bool:
        """Delete one row; say whether it existed."""
        cursor = conn.execute(sql.SQL("DELETE FROM {} WHERE id = %s").format(self.table), (row_id,))
        return cursor.rowcount == 1
