"""SQL for courses."""

from scheduler.repositories.table import TableRepository

courses = TableRepository("courses", ("id", "code", "title", "description", "credits"))
