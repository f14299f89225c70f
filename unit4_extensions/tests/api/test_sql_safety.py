"""SQL safety: statements are never built from strings, hostile input is stored as data, and
database errors reach the client as the problems they mean.

(a) A static check of every module of the app: what `.execute()`, `.executemany()` and
    `sql.SQL()` receive must be a string literal or psycopg `sql` composition, never an
    f-string, `%`, `str.format` or `+` of strings. The checker is tested on bad examples too.
(b) Injection payloads in every text field of every body and every query parameter: a clean
    2xx or 4xx problem, the payload stored verbatim where accepted, every table intact.
(c) Database errors mapped in one place (`scheduler.errors`): unique 409, still referenced
    409, check 422 naming the field, exclusion 409, connection lost 503, anything else 500
    without internals.
"""

import ast
import logging
import re
import textwrap
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from helpers import (
    assert_problem,
    course_body,
    instructor_body,
    make_course,
    make_instructor,
    make_room,
    make_section,
    make_student,
    room_body,
    student_body,
)
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.rows import dict_row
from settings import TEST_PASSWORD

from scheduler.errors import Conflict, ValidationFailed, database_error_to_api_error
from scheduler_common.db import close_pool, transaction

API = "/api/v1"
SCHEDULER = Path(__file__).resolve().parents[2] / "scheduler"


# === (a) no string-built SQL =========================================================


LITERAL, COMPOSED, UNSAFE, UNKNOWN = "literal", "composed", "unsafe", "unknown"
EXECUTE_METHODS = {"execute", "executemany"}
# psycopg.sql classes whose instances are safe to compose; sql.SQL itself needs a literal.
SQL_CLASSES = {"SQL", "Identifier", "Literal", "Placeholder", "Composed"}
SCOPES = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


@dataclass(frozen=True)
class Finding:
    filename: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}: {self.message}"


class SqlChecker:
    """Classify what reaches `.execute()`/`.executemany()`/`sql.SQL()` in one module.

    A value is a LITERAL (a str constant), COMPOSED (psycopg `sql` objects, including
    `sql.SQL(literal).format(...)`, `.join(...)` and `+` of composed parts), UNSAFE (an
    f-string, `%`, `.format` or `.join` on a str, `+` with a str), or UNKNOWN (anything the
    checker cannot trace, e.g. a function's result or parameter). Names are traced through
    their assignments in the enclosing function, then the module.
    """

    def __init__(self, source: str, filename: str = "<source>"):
        self.filename = filename
        self.tree = ast.parse(source, filename)
        self.assignments: dict[ast.AST, dict[str, list[ast.expr]]] = {}
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(self.tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent
        self.findings: list[Finding] = []
        self.checked = 0
        self.run()

    # -- scopes and names --

    def scope_of(self, node: ast.AST) -> ast.AST:
        node = self.parents.get(node)
        while node is not None and not isinstance(node, SCOPES):
            node = self.parents.get(node)
        return node or self.tree

    def assigned_in(self, scope: ast.AST) -> dict[str, list[ast.expr]]:
        if scope not in self.assignments:
            found: dict[str, list[ast.expr]] = defaultdict(list)
            for node in ast.walk(scope):
                if node is not scope and isinstance(node, SCOPES):
                    continue
                if self.scope_of(node) is not scope:
                    continue
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            found[target.id].append(node.value)
                elif isinstance(node, ast.AnnAssign | ast.NamedExpr) and node.value is not None:
                    if isinstance(node.target, ast.Name):
                        found[node.target.id].append(node.value)
                elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                    # `name += value` counts as `name = <composed> + value`
                    placeholder = ast.Call(
                        func=ast.Attribute(ast.Name("sql"), "SQL"), args=[ast.Constant("")]
                    )
                    found[node.target.id].append(ast.BinOp(placeholder, node.op, node.value))
            self.assignments[scope] = found
        return self.assignments[scope]

    def resolve(self, name: ast.Name, seen: frozenset[str]) -> tuple[str, str]:
        if name.id in seen:
            return COMPOSED, ""  # a name refers to itself through `+=`: judged by the rest
        scope = self.scope_of(name)
        while True:
            values = self.assigned_in(scope).get(name.id)
            if values or scope is self.tree:
                break
            scope = self.scope_of(scope)
        if not values:
            return UNKNOWN, f"`{name.id}` is not assigned in this module"
        kinds = [self.classify(value, seen | {name.id}) for value in values]
        for kind, reason in kinds:
            if kind in (UNSAFE, UNKNOWN):
                return kind, f"`{name.id}`: {reason}"
        if all(kind == LITERAL for kind, _ in kinds):
            return LITERAL, ""
        if all(kind == COMPOSED for kind, _ in kinds):
            return COMPOSED, ""
        return UNSAFE, f"`{name.id}` is sometimes a str and sometimes composed SQL"

    # -- classification --

    @staticmethod
    def is_sql_class(func: ast.expr, names: set[str] = SQL_CLASSES) -> str | None:
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "sql"
            and func.attr in names
        ):
            return func.attr
        if isinstance(func, ast.Name) and func.id in names:
            return func.id
        return None

    def classify(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> tuple[str, str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            return LITERAL, ""
        if isinstance(node, ast.JoinedStr):
            return UNSAFE, "an f-string"
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            return UNSAFE, "%-formatting"
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.classify(node.left, seen), self.classify(node.right, seen)
            for kind, reason in (left, right):
                if kind == UNSAFE:
                    return kind, reason
            if left[0] == right[0] == COMPOSED:
                return COMPOSED, ""
            return UNSAFE, "`+` of strings that are not both psycopg sql objects"
        if isinstance(node, ast.BinOp):
            return UNSAFE, f"a {type(node.op).__name__} expression"
        if isinstance(node, ast.IfExp):
            kinds = {self.classify(node.body, seen), self.classify(node.orelse, seen)}
            if len({kind for kind, _ in kinds}) == 1:
                return kinds.pop()
            return UNSAFE, "a conditional mixing str and composed SQL"
        if isinstance(node, ast.Name):
            return self.resolve(node, seen)
        if isinstance(node, ast.Call):
            if self.is_sql_class(node.func) == "SQL":
                return self.check_sql_call(node, seen)
            if self.is_sql_class(node.func):
                return COMPOSED, ""
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
                receiver, reason = self.classify(node.func.value, seen)
                if receiver == COMPOSED:
                    return COMPOSED, ""
                if receiver == LITERAL:
                    return UNSAFE, f"str.{node.func.attr}()"
                return UNSAFE, f".{node.func.attr}() on something that is not sql.SQL ({reason})"
            return UNKNOWN, "the result of a call the checker cannot trace"
        return UNKNOWN, f"a {type(node).__name__} the checker cannot trace"

    def check_sql_call(self, node: ast.Call, seen: frozenset[str]) -> tuple[str, str]:
        if not node.args:
            return UNSAFE, "sql.SQL() without a string"
        kind, reason = self.classify(node.args[0], seen)
        if kind != LITERAL:
            return UNSAFE, f"sql.SQL() of {reason or 'composed SQL'}, not of a string literal"
        return COMPOSED, ""

    # -- the walk --

    def first_argument(self, call: ast.Call) -> ast.expr | None:
        if call.args:
            return call.args[0]
        return next((kw.value for kw in call.keywords if kw.arg == "query"), None)

    def run(self) -> None:
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call):
                continue
            is_execute = isinstance(node.func, ast.Attribute) and node.func.attr in EXECUTE_METHODS
            is_sql = self.is_sql_class(node.func, {"SQL"}) is not None
            argument = self.first_argument(node)
            if not (is_execute or is_sql) or argument is None:
                continue
            self.checked += 1
            kind, reason = self.classify(argument)
            if is_sql and kind != LITERAL:
                reason = reason or "composed SQL"
                self.report(node, f"sql.SQL() must get a string literal, not {reason}")
            elif is_execute and kind not in (LITERAL, COMPOSED):
                self.report(node, f".{node.func.attr}() gets {reason}")

    def report(self, node: ast.AST, message: str) -> None:
        self.findings.append(Finding(self.filename, node.lineno, message))


def check(source: str) -> list[Finding]:
    return SqlChecker(textwrap.dedent(source)).findings


def app_modules() -> list[Path]:
    return sorted(SCHEDULER.rglob("*.py"))


def test_every_statement_of_the_app_is_a_literal_or_psycopg_composition():
    findings, checked = [], 0
    for path in app_modules():
        checker = SqlChecker(path.read_text(), str(path.relative_to(SCHEDULER.parent)))
        findings += checker.findings
        checked += checker.checked

    assert not findings, "\n".join(map(str, findings))
    # The walk really saw the app: its modules and dozens of statements.
    assert {path.name for path in app_modules()} >= {"table.py", "sections.py", "enrollments.py"}
    assert checked >= 40, checked


BAD_SOURCES = {
    "f-string": "conn.execute(f\"SELECT * FROM courses WHERE code = '{code}'\")",
    "percent": "conn.execute(\"SELECT * FROM courses WHERE code = '%s'\" % code)",
    "percent-tuple": 'cur.execute("SELECT %s" % (value,))',
    "format": 'conn.execute("SELECT * FROM {} WHERE id = 1".format(table))',
    "plus": 'conn.execute("SELECT * FROM courses WHERE code = \'" + code + "\'")',
    "plus-literals": 'conn.execute("SELECT * FROM " + "courses")',
    "executemany-plus": 'cur.executemany("INSERT INTO t VALUES (" + values + ")", rows)',
    "str-join": 'conn.execute(", ".join(columns))',
    "keyword-query": 'conn.execute(query=f"DELETE FROM {table}")',
    "sql-of-f-string": 'conn.execute(sql.SQL(f"SELECT * FROM {table}"))',
    "sql-of-plus": 'sql.SQL("SELECT " + column)',
    "sql-of-format": 'q = sql.SQL("SELECT {}".format(column))',
    "bare-SQL-of-f-string": 'SQL(f"SELECT {column}")',
    "composed-plus-str": 'conn.execute(sql.SQL("SELECT 1") + " WHERE id = " + str(i))',
    "untraceable-call": "conn.execute(build_query(table))",
    "untraceable-parameter": """
        def run(conn, query):
            conn.execute(query)
    """,
    "module-name-f-string": """
        QUERY = f"SELECT * FROM {TABLE}"

        def run(conn):
            conn.execute(QUERY)
    """,
    "local-name-percent": """
        def run(conn, table):
            query = "SELECT * FROM %s" % table
            return conn.execute(query).fetchall()
    """,
    "augmented-str": """
        def run(conn, name):
            query = sql.SQL("SELECT * FROM t")
            query += " WHERE name = '" + name + "'"
            conn.execute(query)
    """,
    "reassigned-later": """
        def run(conn, name):
            query = "SELECT 1"
            if name:
                query = f"SELECT * FROM t WHERE name = '{name}'"
            conn.execute(query)
    """,
    "conditional": 'conn.execute("SELECT 1" if ok else f"SELECT {x}")',
    "method-in-class": """
        class Repo:
            def get(self, conn, table):
                return conn.execute("SELECT * FROM {}".format(table))
    """,
}

GOOD_SOURCES = {
    "literal-with-parameters": 'conn.execute("SELECT * FROM courses WHERE id = %s", (course_id,))',
    "named-parameters": 'conn.execute("SELECT %(a)s", {"a": 1})',
    "implicit-concatenation": 'conn.execute("SELECT *" " FROM courses")',
    "sql-format-identifier": """
        conn.execute(sql.SQL("SELECT * FROM {} WHERE id = %s").format(sql.Identifier(t)), (1,))
    """,
    "sql-plus-sql": 'conn.execute(sql.SQL("SELECT 1") + sql.SQL(" WHERE true"))',
    "sql-join": 'conn.execute(sql.SQL(", ").join(map(sql.Identifier, columns)))',
    "module-constants": """
        SELECT = sql.SQL("SELECT * FROM sections AS s")
        FILTERS = sql.SQL(" WHERE s.term = %(term)s")

        def page(conn, term):
            return conn.execute(SELECT + FILTERS + sql.SQL(" LIMIT 1"), {"term": term})
    """,
    "local-composition": """
        def get(conn, table, lock):
            query = sql.SQL("SELECT * FROM {} WHERE id = %s").format(sql.Identifier(table))
            if lock:
                query += sql.SQL(" FOR UPDATE")
            return conn.execute(query, (1,))
    """,
    "literal-constant": """
        STATEMENT = "SELECT 1"

        def ping(conn):
            conn.execute(STATEMENT)
    """,
    "executemany": 'cur.executemany("INSERT INTO t (a) VALUES (%s)", rows)',
    "formatting-elsewhere": """
        logger.info("user %s" % name)
        message = f"Hello {name}"
        conn.execute("SELECT 1")
    """,
}


@pytest.mark.parametrize("source", BAD_SOURCES.values(), ids=BAD_SOURCES.keys())
def test_the_checker_catches_string_built_sql(source):
    assert check(source)


@pytest.mark.parametrize("source", GOOD_SOURCES.values(), ids=GOOD_SOURCES.keys())
def test_the_checker_accepts_literals_and_psycopg_composition(source):
    assert check(source) == []


def test_the_checker_names_the_file_and_line():
    source = 'conn.execute("SELECT 1")\nconn.execute(f"SELECT {x}")\n'

    (finding,) = SqlChecker(source, "scheduler/bad.py").findings

    assert (finding.filename, finding.line) == ("scheduler/bad.py", 2)
    assert "f-string" in finding.message


# === (b) injection payloads =============================================================


NUL = "a\x00b"
PAYLOADS = [
    "' OR '1'='1",
    "'; DROP TABLE courses; --",
    "1; DELETE FROM students",
    "\\'",
    "%s",
    "%(x)s",
    "$1",
    "\u2019 OR \u20181\u2019=\u20181",  # typographic quotes
    "\u02bc; DROP TABLE rooms; --",  # modifier letter apostrophe
    "Robert'); DROP TABLE students;--",
    '"; SELECT pg_sleep(0); --',
    NUL,
]
TEXT_PAYLOADS = [payload for payload in PAYLOADS if payload != NUL]


def as_email(payload: str) -> str:
    """The payload as the local part of an address that passes the email pattern."""
    return re.sub(r"[\s@]", "", payload) + "@example.edu"


@dataclass
class Target:
    """A body field that reaches the database: where it is sent and where it is stored."""

    method: str
    path: str  # with {course}, {instructor}, {room}, {student}, {section} from `catalog`
    field: str
    body: object  # callable(catalog, field, value, n) -> the JSON body
    table: str | None  # where an accepted value is stored, in the column named `field`
    grows: frozenset[str] = frozenset()  # tables a successful call adds rows to
    email: bool = False
    stored_as: object = None  # callable(value) -> stored value, when not verbatim


# Body builders take the catalog, the field, its value, and the number of the call within the
# test (for what must stay unique: an email, a time slot).


def post_body(make):
    return lambda _catalog, field, value, _n: make(**{field: value})


def patch_body(catalog, field, value, n):
    return {field: value}


def new_section(catalog, field, value, n):
    return {
        "course_id": catalog["course"],
        "instructor_id": catalog["instructor"],
        "room_id": catalog["room"],
        "term": "2027-spring",
        "capacity": 5,
        "days": ["SUN"],
        "starts_at": f"{6 + n:02}:00",
        "ends_at": f"{6 + n:02}:30",
        field: value,
    }


def register(catalog, field, value, n):
    email = f"fresh{n}@example.edu"
    return {"email": email, "password": TEST_PASSWORD, "full_name": "F", field: value}


def login(catalog, field, value, n):
    return {"email": catalog["student_email"], "password": TEST_PASSWORD, field: value}


def one_field(catalog, field, value, n):
    return {field: value}


def grows(*tables: str) -> frozenset[str]:
    return frozenset(tables)


# A registration's mail comes with its delivery job (lesson 4.9), and procrastinate records it.
ACCOUNT_TABLES = grows(
    *("students", "users", "email_verifications", "outbox"),
    *("procrastinate_jobs", "procrastinate_events"),
)
TARGETS = [
    Target("POST", "/courses", "title", post_body(course_body), "courses", grows("courses")),
    Target("POST", "/courses", "description", post_body(course_body), "courses", grows("courses")),
    Target(
        "POST",
        "/courses",
        "code",
        post_body(course_body),
        "courses",
        grows("courses"),
        stored_as=str.upper,
    ),
    Target("PATCH", "/courses/{course}", "title", patch_body, "courses"),
    Target("PATCH", "/courses/{course}", "description", patch_body, "courses"),
    Target(
        "POST",
        "/instructors",
        "full_name",
        post_body(instructor_body),
        "instructors",
        grows("instructors"),
    ),
    Target(
        "POST",
        "/instructors",
        "email",
        post_body(instructor_body),
        "instructors",
        grows("instructors"),
        email=True,
    ),
    Target("PATCH", "/instructors/{instructor}", "full_name", patch_body, "instructors"),
    Target("PATCH", "/instructors/{instructor}", "email", patch_body, "instructors", email=True),
    Target(
        "POST", "/students", "full_name", post_body(student_body), "students", grows("students")
    ),
    Target(
        "POST",
        "/students",
        "email",
        post_body(student_body),
        "students",
        grows("students"),
        email=True,
    ),
    Target("PATCH", "/students/{student}", "full_name", patch_body, "students"),
    Target("PATCH", "/students/{student}", "email", patch_body, "students", email=True),
    Target("POST", "/rooms", "name", post_body(room_body), "rooms", grows("rooms")),
    Target("PATCH", "/rooms/{room}", "name", patch_body, "rooms"),
    Target("POST", "/sections", "notes", new_section, "sections", grows("sections")),
    Target("POST", "/sections", "term", new_section, "sections", grows("sections")),
    Target("PATCH", "/sections/{section}", "notes", patch_body, "sections"),
    Target("POST", "/auth/register", "full_name", register, "students", ACCOUNT_TABLES),
    Target("POST", "/auth/register", "email", register, "users", ACCOUNT_TABLES, email=True),
    Target("POST", "/auth/register", "password", register, None, ACCOUNT_TABLES),
    Target("POST", "/auth/login", "email", login, None, grows("failed_logins"), email=True),
    Target("POST", "/auth/login", "password", login, None, grows("failed_logins")),
    Target("POST", "/auth/verify", "token", one_field, None),
    Target("POST", "/auth/resend-verification", "email", one_field, None, email=True),
    Target("POST", "/auth/refresh", "refresh_token", one_field, None),
    Target("POST", "/auth/logout", "refresh_token", one_field, None),
]


def target_id(target: Target) -> str:
    return f"{target.method} {target.path} {target.field}"


def variants(target: Target) -> list[str]:
    """Payloads go in as they are; into an email field also as an address's local part, so
    that they pass validation and reach the database."""
    return ["raw", "as-email"] if target.email else ["raw"]


def shape(payload: str, variant: str) -> str:
    return as_email(payload) if variant == "as-email" else payload


BODY_CASES = [
    pytest.param(target, variant, id=f"{target_id(target)} {variant}")
    for target in TARGETS
    for variant in variants(target)
]


@pytest.fixture
def catalog(client, make_user, db) -> dict:
    """A row in every catalog table (an enrolled student with an account among them)."""
    user = make_user("student")
    section = make_section(client)
    enrolled = client.post(
        f"{API}/sections/{section['id']}/enrollments", json={"student_id": user["student_id"]}
    )
    assert enrolled.status_code == 201
    return {
        "course": section["course"]["id"],
        "instructor": section["instructor"]["id"],
        "room": section["room"]["id"],
        "student": make_student(client)["id"],
        "section": section["id"],
        "student_email": user["email"],
    }


def table_counts(db) -> dict[str, int]:
    """Row counts of every table of the schema."""
    tables = [
        row["tablename"]
        for row in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ]
    return {
        table: db.execute(
            sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table))
        ).fetchone()["n"]
        for table in tables
    }


EXPECTED_TABLES = {
    "courses",
    "instructors",
    "rooms",
    "students",
    "sections",
    "enrollments",
    "users",
    "email_verifications",
    "outbox",
    "failed_logins",
    "refresh_tokens",
}


def assert_tables_intact(db, before: dict[str, int], may_grow: frozenset[str]) -> None:
    after = table_counts(db)
    assert set(after) == set(before) >= EXPECTED_TABLES
    for table, count in before.items():
        if table in may_grow:
            assert after[table] >= count, table
        else:
            assert after[table] == count, table


def assert_clean(response) -> None:
    """A 2xx, or a 4xx problem: never a 5xx."""
    status = response.status_code
    assert status < 500, response.get_data(as_text=True)
    if status >= 400:
        with_errors = status == 422 or (status == 400 and "errors" in response.get_json())
        assert_problem(response, status, errors=with_errors)


def send_payload(target: Target, value: str, n: int, client, anonymous_client, catalog, db):
    """Send one value in the target field; check the answer is clean, the tables intact, and
    an accepted value stored verbatim."""
    path = API + target.path.format(**catalog)
    body = target.body(catalog, target.field, value, n)
    sender = anonymous_client if target.path.startswith("/auth") else client
    before = table_counts(db)

    response = sender.open(path, method=target.method, json=body)

    assert_clean(response)
    accepted = response.status_code < 300
    assert_tables_intact(db, before, target.grows if accepted else grows("failed_logins"))
    if not accepted or target.table is None:
        return
    if target.method == "PATCH":
        row_id = catalog[target.path.split("{")[1].rstrip("}")]
    elif target.path.startswith("/auth") and target.table == "students":
        row_id = response.get_json()["student_id"]
    else:
        row_id = response.get_json()["id"]
    stored = db.execute(
        sql.SQL("SELECT {} AS value FROM {} WHERE id = %s").format(
            sql.Identifier(target.field), sql.Identifier(target.table)
        ),
        (row_id,),
    ).fetchone()["value"]
    expected = target.stored_as(value) if target.stored_as else value
    assert stored == expected
    if not target.path.startswith("/auth"):
        assert response.get_json()[target.field] == expected
        read_back = client.get(response.headers.get("Location", path))
        assert read_back.get_json()[target.field] == expected


@pytest.mark.parametrize(("target", "variant"), BODY_CASES)
def test_payloads_in_a_body_field_are_data_never_sql(
    target, variant, client, anonymous_client, catalog, db
):
    for n, payload in enumerate(PAYLOADS):
        if payload == NUL:
            continue  # a test of its own, below
        try:
            send_payload(target, shape(payload, variant), n, client, anonymous_client, catalog, db)
        except AssertionError as error:
            raise AssertionError(f"payload {payload!r}: {error}") from error


@pytest.mark.parametrize(("target", "variant"), BODY_CASES)
def test_a_nul_in_a_body_field_is_a_clean_answer(
    target, variant, client, anonymous_client, catalog, db
):
    send_payload(target, shape(NUL, variant), 0, client, anonymous_client, catalog, db)


def test_the_payloads_reach_the_database_where_the_rules_allow(client, db, catalog):
    """Most payloads are valid text: they are accepted and stored, not merely refused."""
    for payload in TEXT_PAYLOADS:
        response = client.post(f"{API}/courses", json=course_body(title=payload))
        assert response.status_code == 201, payload
    titles = {row["title"] for row in db.execute("SELECT title FROM courses")}
    assert titles >= set(TEXT_PAYLOADS)


LISTS = [
    "/courses",
    "/instructors",
    "/rooms",
    "/students",
    "/sections",
    "/sections/{section}/enrollments",
    "/students/{student}/schedule",
]
QUERY_CASES = [
    *((path, "limit", {"offset": "0"}) for path in LISTS),
    *((path, "offset", {"limit": "20"}) for path in LISTS),
    *(
        ("/sections", name, {"limit": "20", "offset": "0"})
        for name in ("term", "course_id", "instructor_id", "room_id")
    ),
]


@pytest.mark.parametrize(
    ("path", "name", "others"), QUERY_CASES, ids=[f"{p} {n}" for p, n, _ in QUERY_CASES]
)
def test_payloads_in_a_query_parameter_are_400(client, catalog, db, path, name, others):
    url = API + path.format(student=catalog["student"], section=catalog["section"])
    before = table_counts(db)

    for payload in PAYLOADS:
        response = client.get(url, query_string={**others, name: payload})

        body = assert_problem(response, 400, errors=True)
        assert name in body["errors"], (payload, body)
    assert_tables_intact(db, before, frozenset())


@pytest.mark.parametrize(
    "query", [{}, {"limit": "5"}, {"offset": "0"}], ids=["none", "limit", "offset"]
)
@pytest.mark.parametrize("path", LISTS)
def test_a_list_without_both_paging_parameters_is_not_a_500(client, catalog, path, query):
    url = API + path.format(student=catalog["student"], section=catalog["section"])

    response = client.get(url, query_string=query)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["limit"] == int(query.get("limit", 20))


@pytest.mark.parametrize("query", [{"limit": "abc"}, {"offset": "' OR 1=1"}, {"term": "x"}])
def test_a_bad_parameter_alone_is_400_not_500(client, query):
    assert_problem(client.get(f"{API}/sections", query_string=query), 400, errors=True)


# === (c) database errors, mapped in one place ============================================


def test_a_duplicate_unique_value_is_409(client, db):
    course = make_course(client)
    instructor = make_instructor(client)
    room = make_room(client)
    before = table_counts(db)

    duplicates = [
        ("/courses", course_body(code=course["code"]), "course with this code"),
        ("/instructors", instructor_body(email=instructor["email"].upper()), "instructor"),
        ("/rooms", room_body(name=room["name"]), "room with this name"),
    ]
    for path, body, detail in duplicates:
        problem = assert_problem(client.post(API + path, json=body), 409)
        assert detail in problem["detail"], problem

    assert table_counts(db) == before


@pytest.mark.parametrize("parent", ["courses", "instructors", "rooms"])
def test_deleting_a_record_still_referenced_is_409_still_referenced(client, db, parent):
    section = make_section(client)
    parent_id = section[
        {"courses": "course", "instructors": "instructor", "rooms": "room"}[parent]
    ]["id"]
    before = table_counts(db)

    problem = assert_problem(client.delete(f"{API}/{parent}/{parent_id}"), 409)

    assert "still referenced" in problem["detail"]
    assert "sections" in problem["detail"]
    assert table_counts(db) == before


def test_deleting_a_student_with_enrollments_is_409_still_referenced(client, db):
    section, student = make_section(client), make_student(client)
    client.post(f"{API}/sections/{section['id']}/enrollments", json={"student_id": student["id"]})

    problem = assert_problem(client.delete(f"{API}/students/{student['id']}"), 409)

    assert "still referenced by enrollments" in problem["detail"]


def test_a_check_violation_is_422_naming_the_field(client, db):
    body = {**make_section_body(client), "starts_at": "11:00", "ends_at": "10:00"}

    problem = assert_problem(client.post(f"{API}/sections", json=body), 422)

    assert "ends_at" in problem["errors"]
    assert table_counts(db)["sections"] == 0


def make_section_body(client) -> dict:
    return {
        "course_id": make_course(client)["id"],
        "instructor_id": make_instructor(client)["id"],
        "room_id": make_room(client)["id"],
        "term": "2027-spring",
        "capacity": 5,
        "days": ["MON"],
        "starts_at": "09:00",
        "ends_at": "10:00",
    }


@pytest.mark.parametrize("shared", ["room_id", "instructor_id"])
def test_an_exclusion_violation_is_409(client, db, shared):
    first = make_section_body(client)
    assert client.post(f"{API}/sections", json=first).status_code == 201
    second = {**make_section_body(client), shared: first[shared], "starts_at": "09:30"}

    problem = assert_problem(client.post(f"{API}/sections", json=second), 409)

    assert ("room" if shared == "room_id" else "instructor") in problem["detail"]
    assert table_counts(db)["sections"] == 1


def test_losing_the_database_is_503_for_public_and_authenticated_requests(
    client, app, database_url, database_outage
):
    make_course(client)
    app.extensions["scheduler_db_pool"].timeout = 0.5

    with database_outage():
        for response in (
            client.get(f"{API}/courses", query_string={"limit": "20", "offset": "0"}),
            client.get(f"{API}/students", query_string={"limit": "20", "offset": "0"}),
            client.post(f"{API}/courses", json=course_body()),
        ):
            problem = assert_problem(response, 503)
            assert response.headers["Retry-After"].isdigit()
            assert "database" in problem["detail"].lower()

    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        assert conn.execute("SELECT count(*) AS n FROM courses").fetchone()["n"] == 1


# --- the mapping function, with real errors from PostgreSQL ----------------------------


def raised_by(db, statement: str, params=()) -> psycopg.Error:
    """Run a statement that PostgreSQL refuses; return the psycopg error it raised."""
    with pytest.raises(psycopg.Error) as raised:
        db.execute(statement, params)
    return raised.value


@pytest.fixture
def rows(db) -> dict:
    """One course, instructor, room and section, for statements to collide with."""
    course = db.execute(
        "INSERT INTO courses (code, title, credits) VALUES ('CS101', 'Intro', 3) RETURNING id"
    ).fetchone()["id"]
    instructor = db.execute(
        "INSERT INTO instructors (full_name, email) VALUES ('I', 'i@example.edu') RETURNING id"
    ).fetchone()["id"]
    room = db.execute(
        "INSERT INTO rooms (name, capacity) VALUES ('R1', 30) RETURNING id"
    ).fetchone()["id"]
    section = db.execute(
        """
        INSERT INTO sections (course_id, instructor_id, room_id, term, capacity, days,
                              starts_at, ends_at)
        VALUES (%s, %s, %s, '2027-spring', 10, '{MON}', '09:00', '10:00') RETURNING id
        """,
        (course, instructor, room),
    ).fetchone()["id"]
    return {"course": course, "instructor": instructor, "room": room, "section": section}


SECTION_INSERT = """
    INSERT INTO sections (course_id, instructor_id, room_id, term, capacity, days,
                          starts_at, ends_at)
    VALUES (%s, %s, %s, '2027-spring', 10, '{MON}', %s, %s)
"""


def test_mapping_unique_violations(db, rows):
    error = raised_by(db, "INSERT INTO courses (code, title, credits) VALUES ('CS101', 'X', 3)")
    assert isinstance(error, pg_errors.UniqueViolation)
    mapped = database_error_to_api_error(error)
    assert type(mapped) is Conflict
    assert mapped.detail == "A course with this code already exists."

    error = raised_by(
        db, "INSERT INTO instructors (full_name, email) VALUES ('J', 'I@EXAMPLE.EDU')"
    )
    assert database_error_to_api_error(error).detail == (
        "An instructor with this email already exists."
    )


def test_mapping_a_foreign_key_still_referenced_on_delete(db, rows):
    error = raised_by(db, "DELETE FROM courses WHERE id = %s", (rows["course"],))

    assert isinstance(error, pg_errors.ForeignKeyViolation)
    mapped = database_error_to_api_error(error)
    assert type(mapped) is Conflict
    assert mapped.detail == "It is still referenced by sections: remove those first."


def test_mapping_a_foreign_key_to_nothing_on_insert(db, rows):
    error = raised_by(
        db, SECTION_INSERT, (987654321, rows["instructor"], rows["room"], "11:00", "12:00")
    )

    mapped = database_error_to_api_error(error)
    assert type(mapped) is Conflict
    assert mapped.detail == "No course with this id."


def test_mapping_a_named_check_violation_to_its_field(db, rows):
    error = raised_by(
        db, SECTION_INSERT, (rows["course"], rows["instructor"], rows["room"], "12:00", "11:00")
    )

    assert isinstance(error, pg_errors.CheckViolation)
    mapped = database_error_to_api_error(error)
    assert type(mapped) is ValidationFailed
    assert mapped.errors == {"ends_at": ["Must be later than starts_at."]}


def test_mapping_an_unnamed_check_violation_to_the_body(db):
    error = raised_by(db, "INSERT INTO rooms (name, capacity) VALUES ('R', 0)")

    mapped = database_error_to_api_error(error)
    assert type(mapped) is ValidationFailed
    assert mapped.errors == {"_body": ["Violates rooms_capacity_positive."]}


@pytest.mark.parametrize(
    ("shared", "detail"),
    [("room", "The room is already booked"), ("instructor", "The instructor already teaches")],
)
def test_mapping_exclusion_violations(db, rows, shared, detail):
    other_room = db.execute(
        "INSERT INTO rooms (name, capacity) VALUES ('R2', 30) RETURNING id"
    ).fetchone()["id"]
    other_instructor = db.execute(
        "INSERT INTO instructors (full_name, email) VALUES ('J', 'j@example.edu') RETURNING id"
    ).fetchone()["id"]
    room = rows["room"] if shared == "room" else other_room
    instructor = rows["instructor"] if shared == "instructor" else other_instructor

    error = raised_by(db, SECTION_INSERT, (rows["course"], instructor, room, "09:30", "10:30"))

    assert isinstance(error, pg_errors.ExclusionViolation)
    mapped = database_error_to_api_error(error)
    assert type(mapped) is Conflict
    assert mapped.detail.startswith(detail)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO courses (code, credits) VALUES ('CS102', 3)",  # not null
        "SELECT * FROM no_such_table",
        "SELECT 1 / 0",
    ],
    ids=["not-null", "undefined-table", "division-by-zero"],
)
def test_other_database_errors_are_not_mapped(db, statement):
    assert database_error_to_api_error(raised_by(db, statement)) is None


# --- the handlers: an error raised anywhere in a request -------------------------------


@pytest.fixture
def raw_app(app_factory, database_url, db):
    """A fresh app (not in TESTING mode) with routes that run one raw statement each."""
    app = app_factory({"TESTING": False, "DATABASE_URL": database_url})
    db.execute("INSERT INTO courses (code, title, credits) VALUES ('CS101', 'Intro', 3)")
    db.execute("INSERT INTO rooms (name, capacity) VALUES ('R1', 30)")

    def statement_route(name: str, statement: str, params=()):
        def view():
            with transaction() as conn:
                conn.execute(statement, params)
            return {"ran": name}

        app.add_url_rule(f"/raw/{name}", name, view)

    statement_route("unique", "INSERT INTO rooms (name, capacity) VALUES ('R1', 5)")
    statement_route("check", "INSERT INTO rooms (name, capacity) VALUES ('R2', -1)")
    statement_route("not-null", "INSERT INTO courses (code, credits) VALUES ('CS102', 3)")
    statement_route("undefined-table", "SELECT secret_column FROM secret_table")
    yield app
    close_pool(app)


@pytest.mark.parametrize(("name", "status"), [("unique", 409), ("check", 422)])
def test_handlers_map_constraint_errors_from_any_route(raw_app, db, name, status):
    before = table_counts(db)

    response = raw_app.test_client().get(f"/raw/{name}")

    assert_problem(response, status)
    assert table_counts(db) == before


@pytest.mark.parametrize("name", ["not-null", "undefined-table"])
def test_an_unexpected_database_error_is_500_without_internals(raw_app, db, caplog, name):
    with caplog.at_level(logging.ERROR):
        response = raw_app.test_client().get(f"/raw/{name}")

    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    for internal in ("secret_table", "secret_column", "CS102", "psycopg", "null value", "relation"):
        assert internal not in text
    request_id = re.search(r"\b[0-9a-f]{32}\b", body["detail"]).group()
    assert any(request_id in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/courses", {"title": NUL}),
        ("/rooms", {"name": NUL}),
        ("/students", {"email": "a\x00b@example.edu"}),
    ],
    ids=["course-title", "room-name", "student-email"],
)
def test_a_nul_character_in_json_is_a_422_not_a_500(client, db, path, body):
    before = table_counts(db)
    full = {"/courses": course_body, "/rooms": room_body, "/students": student_body}[path](**body)

    problem = assert_problem(client.post(API + path, json=full), 422)

    assert set(problem["errors"]) == set(body)
    assert table_counts(db) == before
