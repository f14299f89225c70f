"""SQL for students."""

from scheduler.repositories.table import TableRepository

students = TableRepository("students", ("id", "full_name", "email"))
