"""Rows shaped as the API answers them: related records as nested objects."""


# --8<-- [start:nest]
def nest(row: dict) -> dict:
    """Fold each `relation__field` column into a `relation` object, e.g. `course__id` into
    `{"course": {"id": ...}}`; other columns stay as they are."""
    # Nested here rather than with json_build_object in SQL: plain columns cross the wire
    # as they are, psycopg has no JSON to parse, and Flask encodes the answer exactly once.
    nested: dict = {}
    for column, value in row.items():
        relation, _, field = column.partition("__")
        if field:
            nested.setdefault(relation, {})[field] = value
        else:
            nested[column] = value
    return nested
    # --8<-- [end:nest]
