"""The unit of work: a service's business rule and its writes commit together or not at all."""

from collections.abc import Iterator
from contextlib import contextmanager

from psycopg import Connection
from psycopg_pool import ConnectionPool


# --8<-- [start:database]
class Database:
    """The database a service works on; each `transaction()` block is one unit of work."""

    def __init__(self, pool: ConnectionPool):
        self.pool = pool

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Lend a pooled connection for one transaction: commit when the block ends, roll
        back when it raises."""
        with self.pool.connection() as conn, conn.transaction():
            yield conn

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """Lend a pooled connection whose statements each commit by themselves: for reads,
        which need no BEGIN and COMMIT (two round trips) to see the latest committed rows."""
        with self.pool.connection() as conn:
            yield conn
            # --8<-- [end:database]
