"""SQL for instructors."""

from scheduler.repositories.table import TableRepository

instructors = TableRepository("instructors", ("id", "full_name", "email"))
