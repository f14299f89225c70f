# --8<-- [start:overview]
"""Realistic, deterministic sample data for the Unit 1 catalog schema.

`seed_database(conn, scale=1)` fills an empty database (schema already applied) with:

=============  ==========  ====================================================
table          scale = 1   note
=============  ==========  ====================================================
courses        40          CS101, MATH210, PHYS150 ... (credits 1-6, mostly 3-4)
rooms          15          "Hall A 101", capacity 20-150
instructors    20          firstname.lastname@example.edu
students       500         firstname.lastname@students.example.edu
sections       120         60 in 2027-spring and 60 in 2027-fall
enrollments    2,000       spread over the weeks before each term
=============  ==========  ====================================================

Every count grows linearly with `scale`, and the same `random_seed` always gives the
same rows. The data obeys every rule the API enforces, not only those the database
checks: a section fits in its room; no room or instructor is double-booked in a term;
no section is over-full; no student has two sections of one term whose meetings
overlap, two sections of one course, or more than 18 credits in a term.

Meetings follow a fixed grid so that clashes are easy to avoid: three day patterns
(MON+WED, TUE+THU, FRI) that share no day, times seven 75-minute slots that do not
overlap. Two sections overlap exactly when they share a (pattern, slot) cell.

Rows are written with COPY and explicit ids; the identity sequences are then moved past
the largest id, so rows inserted later get fresh ids.
"""
# --8<-- [end:overview]

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

__all__ = ["SeedCounts", "SeedError", "seed_database"]


class SeedError(Exception):
    """Raised when the database cannot be seeded (it already holds data)."""


@dataclass(frozen=True)
class SeedCounts:
    """How many rows `seed_database` wrote to each table."""

    courses: int
    rooms: int
    instructors: int
    students: int
    sections: int
    enrollments: int
    accounts: int = 0  # users, where the schema has them (Unit 2 on)


# --------------------------------------------------------------------------- catalog data

# (department, number, title, credits, description) — the 40 courses of scale 1.
_BASE_COURSES: tuple[tuple[str, int, str, int, str], ...] = (
    ("CS", 101, "Introduction to Programming", 4,
     "Program design in Python: variables, control flow, functions, lists and dictionaries."),
    ("CS", 150, "Discrete Structures", 3,
     "Logic, sets, relations, proof techniques, counting and graphs for computer science."),
    ("CS", 201, "Data Structures", 4,
     "Lists, stacks, queues, trees, hash tables and graphs; analysing running time."),
    ("CS", 210, "Computer Organization", 3,
     "How a computer runs a program: data representation, assembly language, memory."),
    ("CS", 305, "Database Systems", 3,
     "Relational modelling, SQL, transactions and indexing, with projects in PostgreSQL."),
    ("CS", 340, "Operating Systems", 4,
     "Processes, threads, scheduling, virtual memory, file systems and concurrency."),
    ("MATH", 110, "College Algebra", 3,
     "Functions, equations, inequalities, polynomials, exponentials and logarithms."),
    ("MATH", 120, "Calculus I", 4,
     "Limits, derivatives and their applications, and an introduction to integration."),
    ("MATH", 121, "Calculus II", 4,
     "Techniques and applications of integration, sequences and series."),
    ("MATH", 210, "Linear Algebra", 3,
     "Vectors, matrices, linear systems, vector spaces, eigenvalues and eigenvectors."),
    ("MATH", 330, "Probability and Statistics", 3,
     "Probability models, random variables, estimation and hypothesis testing."),
    ("PHYS", 150, "General Physics I", 4,
     "Mechanics: motion, forces, energy, momentum and rotation, using calculus."),
    ("PHYS", 151, "General Physics II", 4,
     "Electricity, magnetism, circuits, waves and optics, using calculus."),
    ("PHYS", 155, "Physics Laboratory", 1,
     "Hands-on experiments in mechanics and electricity; measurement and error analysis."),
    ("PHYS", 310, "Classical Mechanics", 3,
     "Newtonian, Lagrangian and Hamiltonian mechanics; oscillations and central forces."),
    ("CHEM", 101, "General Chemistry", 4,
     "Atoms, molecules, stoichiometry, bonding, gases and solutions."),
    ("CHEM", 105, "Chemistry Laboratory", 1,
     "Laboratory safety and technique, titration, synthesis and spectroscopy."),
    ("CHEM", 230, "Organic Chemistry I", 5,
     "Structure, nomenclature and reactions of organic compounds, with an integrated lab."),
    ("BIO", 110, "Principles of Biology", 4,
     "Cells, metabolism, genetics, evolution and ecology: the foundations of biology."),
    ("BIO", 115, "Biology Laboratory", 1,
     "Microscopy, dissection and experimental design to accompany Principles of Biology."),
    ("BIO", 220, "Genetics", 3,
     "Mendelian and molecular genetics, gene expression and genomics."),
    ("BIO", 340, "Field Ecology", 6,
     "An intensive field course: sampling populations, surveying habitats, analysing data."),
    ("HIST", 120, "World History to 1500", 3,
     "Societies, empires, religions and trade networks from antiquity to 1500."),
    ("HIST", 121, "World History since 1500", 3,
     "Global encounters, revolutions, industrialisation and the modern world."),
    ("HIST", 250, "The Industrial Revolution", 3,
     "Technology, labour and society in the making of the industrial world."),
    ("HIST", 390, "Research Seminar in History", 2,
     "Working with primary sources to write an original research paper."),
    ("ENGL", 101, "Academic Writing", 3,
     "Reading critically and writing clear, well-argued and well-sourced essays."),
    ("ENGL", 210, "Introduction to Literature", 3,
     "Close reading of poetry, drama and fiction from several periods."),
    ("ENGL", 240, "Creative Writing Workshop", 2,
     "Writing and workshopping short fiction and poetry."),
    ("ENGL", 320, "Shakespeare", 3,
     "The major comedies, histories and tragedies, read closely and in performance."),
    ("ECON", 101, "Principles of Microeconomics", 3,
     "Supply and demand, consumer choice, firms, markets and market failure."),
    ("ECON", 102, "Principles of Macroeconomics", 3,
     "Output, unemployment, inflation, money and monetary and fiscal policy."),
    ("ECON", 250, "Intermediate Microeconomics", 4,
     "Consumer and producer theory, general equilibrium and welfare, with calculus."),
    ("ECON", 310, "Econometrics", 4,
     "Regression analysis of economic data: estimation, inference and causal questions."),
    ("PSYC", 101, "Introduction to Psychology", 3,
     "Perception, learning, memory, development, personality and social behaviour."),
    ("PSYC", 220, "Cognitive Psychology", 3,
     "Attention, memory, language, reasoning and decision making."),
    ("PSYC", 300, "Research Methods in Psychology", 4,
     "Designing, running and reporting experiments and surveys."),
    ("PHIL", 101, "Introduction to Philosophy", 3,
     "Knowledge, mind, free will and the existence of God, through classic texts."),
    ("PHIL", 210, "Ethics", 3,
     "Theories of right action and the good life, applied to current moral questions."),
    ("PHIL", 230, "Symbolic Logic", 3,
     "Propositional and predicate logic: translation, proofs and models."),
)  # fmt: skip

# Extra variants of each course when scale > 1 get one of these in their title.
_QUALIFIERS = (
    "Honors", "Evening", "Online", "Accelerated", "Studio", "Seminar", "Intensive",
    "Project-Based", "Global Perspectives", "Writing-Intensive", "Flipped", "Summer Bridge",
)  # fmt: skip

_BUILDINGS = (
    "Hall A", "Hall B", "Hall C", "Science Center", "Engineering", "Library",
    "Humanities", "Arts Building", "Franklin Hall", "Curie Hall", "Turing Hall",
)  # fmt: skip

_FIRST_NAMES = (
    "Aaliyah", "Aarav", "Adrian", "Aisha", "Alejandro", "Alice", "Amara", "Amelia", "Ana",
    "Andrei", "Ava", "Benjamin", "Camila", "Carlos", "Charlotte", "Chen", "Chloe", "Daniel",
    "David", "Diego", "Elena", "Eli", "Emily", "Emma", "Ethan", "Fatima", "Felix", "Gabriel",
    "Grace", "Hana", "Hannah", "Hiro", "Ibrahim", "Isabella", "Ivan", "Jack", "James",
    "Javier", "Jin", "Jonas", "Julia", "Kai", "Kavya", "Kenji", "Laila", "Leo", "Liam",
    "Lina", "Lucas", "Lucia", "Maya", "Mateo", "Mei", "Mia", "Mohammed", "Nadia", "Noah",
    "Nora", "Olivia", "Omar", "Oscar", "Priya", "Rafael", "Ravi", "Rosa", "Samuel", "Sara",
    "Sofia", "Tariq", "Thomas", "Valentina", "William", "Yara", "Yusuf", "Zara", "Zoe",
)  # fmt: skip

_LAST_NAMES = (
    "Adams", "Ahmed", "Ali", "Andersen", "Bailey", "Banerjee", "Becker", "Brown", "Campbell",
    "Chen", "Clarke", "Costa", "Cruz", "Dubois", "Evans", "Fernandez", "Fischer", "Garcia",
    "Gonzalez", "Gupta", "Hansen", "Hernandez", "Hughes", "Ivanova", "Jackson", "Jensen",
    "Johnson", "Kaur", "Khan", "Kim", "Kowalski", "Kumar", "Larsen", "Lee", "Lopez",
    "Martin", "Martinez", "Meyer", "Miller", "Mohamed", "Moreau", "Murphy", "Nakamura",
    "Nguyen", "Novak", "O'Brien", "Okafor", "Olsen", "Park", "Patel", "Perez", "Petrov",
    "Popescu", "Ramirez", "Rossi", "Sato", "Schmidt", "Silva", "Singh", "Smith", "Suzuki",
    "Tanaka", "Taylor", "Thompson", "Tran", "Walker", "Wang", "Weber", "Williams", "Wilson",
    "Wong", "Yamamoto", "Yilmaz", "Zhang",
)  # fmt: skip

# ------------------------------------------------------------------------- schedule grid

_TERMS = ("2027-spring", "2027-fall")
# Enrollment windows: the weeks before each term starts.
_ENROLLMENT_WINDOWS = {
    "2027-spring": (datetime(2026, 11, 2, tzinfo=UTC), datetime(2027, 1, 15, tzinfo=UTC)),
    "2027-fall": (datetime(2027, 6, 1, tzinfo=UTC), datetime(2027, 8, 20, tzinfo=UTC)),
}
_PATTERNS = (("MON", "WED"), ("TUE", "THU"), ("FRI",))  # no day in two patterns
_SLOT_MINUTES = 75
_SLOT_STARTS = (
    time(8, 0),
    time(9, 30),
    time(11, 0),
    time(12, 30),
    time(14, 0),
    time(15, 30),
    time(17, 0),
)
_MAX_CREDITS_PER_TERM = 18
_MAX_LOAD_PER_TERM = 4  # sections an instructor teaches in a term before others are asked

# Per scale unit.
_COURSES, _ROOMS, _INSTRUCTORS, _STUDENTS = 40, 15, 20, 500
_SECTIONS_PER_TERM, _ENROLLMENTS = 60, 2000
# Course code variants per base course: 10 number forms x (no suffix + 26 letters).
MAX_SCALE = 10 * 27

_TABLES = ("courses", "rooms", "instructors", "students", "sections", "enrollments")


@dataclass(frozen=True)
class _Section:
    """A generated section before it is written."""

    course: int  # index into the course list
    term: int  # index into _TERMS
    pattern: int  # index into _PATTERNS
    slot: int  # index into _SLOT_STARTS
    room: int
    instructor: int
    capacity: int


# Every seeded account logs in with this password (bcrypt hash below, 12 rounds): sample
# data for trying the API locally, never for a real deployment.
DEV_PASSWORD = "scheduler-dev"
DEV_PASSWORD_HASH = "$2b$12$yutCFeWMdx8UvojSV8G70eW6LpI8UhAwO0A/0cp/3/Nc0SyUQNJ9O"
DEV_ADMIN_EMAIL = "admin@example.edu"


# ----------------------------------------------------------------------------- public API


# --8<-- [start:seed-database]
def seed_database(
    conn: psycopg.Connection,
    scale: int = 1,
    random_seed: int = 2027,
    *,
    dev_accounts: bool = False,
) -> SeedCounts:
    """Load deterministic sample data into an empty database inside the current transaction;
    with `dev_accounts`, also accounts that log in with the published DEV_PASSWORD."""
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be an integer from 1 to {MAX_SCALE}, got {scale!r}")
    rng = random.Random(random_seed)
    # Work in the caller's transaction and leave the commit to them; only a connection in
    # autocommit mode gets a transaction of its own, so that it never holds half the data.
    block = conn.transaction() if conn.autocommit else contextlib.nullcontext()
    with block, conn.cursor(row_factory=tuple_row) as cur:
        # Keep other writers out until the caller commits, then make sure we start empty.
        cur.execute(
            sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(
                sql.SQL(", ").join(map(sql.Identifier, _TABLES))
            )
        )
        for table in _TABLES:
            cur.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table)))
            row = cur.fetchone()
            if row is not None and row[0]:
                raise SeedError(
                    f"the database already holds data (table {table!r} is not empty); "
                    "seed an empty database"
                )

        courses = _make_courses(scale)
        rooms = _make_rooms(rng, scale)
        instructors = _make_people(rng, _INSTRUCTORS * scale, "example.edu")
        students = _make_people(rng, _STUDENTS * scale, "students.example.edu")
        sections = _make_sections(rng, scale, courses, rooms)
        enrollments = _make_enrollments(rng, scale, courses, sections)

        _copy(cur, "courses", ("id", "code", "title", "description", "credits"), courses)
        _copy(cur, "rooms", ("id", "name", "capacity"), rooms)
        _copy(cur, "instructors", ("id", "full_name", "email"), instructors)
        _copy(cur, "students", ("id", "full_name", "email"), students)
        _copy(
            cur,
            "sections",
            (
                "id",
                "course_id",
                "instructor_id",
                "room_id",
                "term",
                "capacity",
                "days",
                "starts_at",
                "ends_at",
            ),
            (_section_row(i, s, courses, rooms, instructors) for i, s in enumerate(sections)),
        )
        _copy(cur, "enrollments", ("student_id", "section_id", "enrolled_at"), enrollments)
        accounts = _seed_accounts(cur, instructors, students) if dev_accounts else 0

        for table in _TABLES[:-1]:  # enrollments has no identity column
            cur.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({name}, 'id'), max(id)) FROM {t}"
                ).format(name=sql.Literal(table), t=sql.Identifier(table))
            )
        # Fresh statistics for what we loaded: without them the planner guesses from empty
        # tables until autovacuum gets round to it, and a deep page of sections took 436 ms
        # instead of 32. ANALYZE sees this transaction's rows and commits with them.
        analyzed = [*_TABLES, "users"] if accounts else _TABLES
        cur.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, analyzed))))

    return SeedCounts(
        courses=len(courses),
        rooms=len(rooms),
        instructors=len(instructors),
        students=len(students),
        sections=len(sections),
        enrollments=len(enrollments),
        accounts=accounts,
    )
    # --8<-- [end:seed-database]


def _seed_accounts(cur: psycopg.Cursor, instructors: list, students: list) -> int:
    """Where the schema has users (Unit 2 on), give every person a verified account with the
    development password, plus an admin; return how many accounts were made."""
    cur.execute("SELECT to_regclass('users') IS NOT NULL")
    if not cur.fetchone()[0]:
        return 0
    rows = [(DEV_ADMIN_EMAIL, DEV_PASSWORD_HASH, "admin", True, None, None)]
    rows += [
        (email, DEV_PASSWORD_HASH, "instructor", True, None, id_) for id_, _, email in instructors
    ]
    rows += [(email, DEV_PASSWORD_HASH, "student", True, id_, None) for id_, _, email in students]
    columns = ("email", "password_hash", "role", "is_verified", "student_id", "instructor_id")
    _copy(cur, "users", columns, rows)
    return len(rows)


# ------------------------------------------------------------------------------ generators


def _copy(cur: psycopg.Cursor, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """Write rows to a table with COPY (text format: the server parses each value)."""
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)


def _course_code(dept: str, number: int, variant: int) -> str:
    """The code of variant `variant` of a course: CS101, CS1011 ... CS1019, CS101A ..."""
    suffix_index, number_form = divmod(variant, 10)
    digits = str(number) if number_form == 0 else f"{number}{number_form}"
    suffix = "" if suffix_index == 0 else chr(ord("A") + suffix_index - 1)
    return f"{dept}{digits}{suffix}"


def _make_courses(scale: int) -> list[tuple[int, str, str, str, int]]:
    """Rows (id, code, title, description, credits): the base catalog, then its variants."""
    rows = []
    for variant in range(scale):
        for dept, number, title, credits, description in _BASE_COURSES:
            if variant:
                qualifier = _QUALIFIERS[(variant - 1) % len(_QUALIFIERS)]
                cycle = (variant - 1) // len(_QUALIFIERS)
                title = f"{title} ({qualifier}{f' {cycle + 1}' if cycle else ''})"
                description = f"{description} This {qualifier.lower()} offering follows the "
                description += "same syllabus in a different format."
            code = _course_code(dept, number, variant)
            rows.append((len(rows) + 1, code, title, description, credits))
    return rows


def _make_rooms(rng: random.Random, scale: int) -> list[tuple[int, str, int]]:
    """Rows (id, name, capacity): mostly seminar rooms and classrooms, a few lecture halls."""
    rows = []
    for i in range(_ROOMS * scale):
        building = _BUILDINGS[i % len(_BUILDINGS)]
        floor, index = divmod(i // len(_BUILDINGS), 20)
        name = f"{building} {(floor + 1) * 100 + index + 1}"
        kind = i % 5
        if kind <= 1:
            capacity = rng.randrange(20, 40, 5)
        elif kind <= 3:
            capacity = rng.randrange(40, 85, 5)
        else:
            capacity = rng.randrange(90, 155, 10)
        rows.append((i + 1, name, capacity))
    return rows


def _make_people(rng: random.Random, count: int, domain: str) -> list[tuple[int, str, str]]:
    """Rows (id, full_name, email) with emails unique whatever their case."""
    rows = []
    taken: dict[str, int] = {}
    for i in range(count):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        local = f"{re.sub('[^a-z]', '', first.lower())}.{re.sub('[^a-z]', '', last.lower())}"
        taken[local] = taken.get(local, 0) + 1
        if taken[local] > 1:  # maria.garcia, maria.garcia2, ...
            local = f"{local}{taken[local]}"
        rows.append((i + 1, f"{first} {last}", f"{local}@{domain}"))
    return rows


def _level(course: tuple[int, str, str, str, int]) -> int:
    """1 for a 100-level course, 2 for 200-level, ... (from the first digit of its code)."""
    return int(re.search("[0-9]", course[1]).group())  # type: ignore[union-attr]


def _target_capacity(rng: random.Random, course: tuple[int, str, str, str, int]) -> int:
    """How many seats a section of this course would like: intro courses are big."""
    if course[4] == 1:  # a lab
        return rng.choice((16, 20, 24))
    level = _level(course)
    if level == 1:
        return rng.randrange(30, 130, 10)
    if level == 2:
        return rng.randrange(25, 65, 5)
    return rng.randrange(15, 45, 5)


def _make_sections(
    rng: random.Random,
    scale: int,
    courses: list[tuple[int, str, str, str, int]],
    rooms: list[tuple[int, str, int]],
) -> list[_Section]:
    """Sections of both terms, each in a free (room, pattern, slot) cell with a free instructor."""
    n_instructors = _INSTRUCTORS * scale
    # Instructors belong to departments in proportion to the departments' course counts.
    dept_of_course = [re.match("[A-Z]+", c[1]).group() for c in courses]  # type: ignore[union-attr]
    per_dept: dict[str, list[int]] = {}
    for i in range(n_instructors):
        per_dept.setdefault(dept_of_course[i * len(courses) // n_instructors], []).append(i)
    room_order = sorted(range(len(rooms)), key=lambda r: (rooms[r][2], r))  # small rooms first

    sections: list[_Section] = []
    for term in range(len(_TERMS)):
        # Every course once, then extra sections, mostly of the intro courses (at most 3).
        offered = list(range(len(courses)))
        weights = [3 if _level(c) == 1 else 1 for c in courses]
        times = [1] * len(courses)
        while len(offered) < _SECTIONS_PER_TERM * scale:
            pick = rng.choices(range(len(courses)), weights)[0]
            if times[pick] < 3:
                offered.append(pick)
                times[pick] += 1
        rng.shuffle(offered)

        room_busy: set[tuple[int, int, int]] = set()  # (room, pattern, slot)
        teacher_busy: set[tuple[int, int, int]] = set()  # (instructor, pattern, slot)
        load = [0] * n_instructors
        for course_index in offered:
            course = courses[course_index]
            target = _target_capacity(rng, course)
            if course[4] <= 2:
                patterns = [2, 0, 1] if rng.random() < 0.7 else [0, 1, 2]
            else:
                patterns = [0, 1] if rng.random() < 0.5 else [1, 0]
                patterns.append(2)
            cells = []
            for pattern in patterns:
                slots = list(range(len(_SLOT_STARTS)))
                rng.shuffle(slots)
                cells.extend((pattern, slot) for slot in slots)
            home = per_dept.get(dept_of_course[course_index], [])
            placed = _place(
                rng,
                cells,
                home,
                n_instructors,
                load,
                teacher_busy,
                room_busy,
                room_order,
                rooms,
                target,
            )
            pattern, slot, room, instructor = placed
            room_busy.add((room, pattern, slot))
            teacher_busy.add((instructor, pattern, slot))
            load[instructor] += 1
            capacity = min(target, rooms[room][2])
            sections.append(_Section(course_index, term, pattern, slot, room, instructor, capacity))
    # Ids in catalog order: by term, then course, then meeting time.
    sections.sort(key=lambda s: (s.term, s.course, s.pattern, s.slot, s.room))
    return sections


def _place(
    rng: random.Random,
    cells: list[tuple[int, int]],
    home: list[int],
    n_instructors: int,
    load: list[int],
    teacher_busy: set[tuple[int, int, int]],
    room_busy: set[tuple[int, int, int]],
    room_order: list[int],
    rooms: list[tuple[int, str, int]],
    target: int,
) -> tuple[int, int, int, int]:
    """Find (pattern, slot, room, instructor) all free; prefer the department's instructors."""
    everyone = list(range(n_instructors))
    for candidates, max_load in (
        (home, _MAX_LOAD_PER_TERM),
        (everyone, _MAX_LOAD_PER_TERM),
        (everyone, len(cells)),
    ):
        for pattern, slot in cells:
            free_rooms = [r for r in room_order if (r, pattern, slot) not in room_busy]
            if not free_rooms:
                continue
            free = [
                i
                for i in candidates
                if load[i] < max_load and (i, pattern, slot) not in teacher_busy
            ]
            if not free:
                continue
            least = min(load[i] for i in free)
            instructor = rng.choice([i for i in free if load[i] == least])
            # The smallest free room that holds the target, else the largest free room.
            fitting = [r for r in free_rooms if rooms[r][2] >= target]
            room = fitting[0] if fitting else free_rooms[-1]
            return pattern, slot, room, instructor
    raise RuntimeError("no free room and instructor left for a section")  # pragma: no cover


def _section_row(
    index: int,
    section: _Section,
    courses: list[tuple[int, str, str, str, int]],
    rooms: list[tuple[int, str, int]],
    instructors: list[tuple[int, str, str]],
) -> tuple:
    """The COPY row of a section; days in the text form of a weekday[] ({MON,WED})."""
    starts = _SLOT_STARTS[section.slot]
    ends_minutes = starts.hour * 60 + starts.minute + _SLOT_MINUTES
    return (
        index + 1,
        courses[section.course][0],
        instructors[section.instructor][0],
        rooms[section.room][0],
        _TERMS[section.term],
        section.capacity,
        "{" + ",".join(_PATTERNS[section.pattern]) + "}",
        starts,
        time(ends_minutes // 60, ends_minutes % 60),
    )


def _make_enrollments(
    rng: random.Random,
    scale: int,
    courses: list[tuple[int, str, str, str, int]],
    sections: list[_Section],
) -> list[tuple[int, int, datetime]]:
    """Rows (student_id, section_id, enrolled_at) that break no enrollment rule."""
    n_students, total = _STUDENTS * scale, _ENROLLMENTS * scale
    n_pairs = n_students * len(_TERMS)  # pair = student * len(_TERMS) + term
    # How many sections each student wants each term, adjusted to add up to `total` exactly.
    wants = rng.choices(range(6), weights=(12, 22, 30, 22, 10, 4), k=n_pairs)
    while (excess := sum(wants) - total) != 0:
        i = rng.randrange(n_pairs)
        if excess > 0 and wants[i] > 0:
            wants[i] -= 1
        elif excess < 0 and wants[i] < 5:
            wants[i] += 1

    # One entry per free seat; drawing from it picks sections in proportion to free seats,
    # and removing a drawn seat keeps every section within its capacity.
    seats: list[list[int]] = [[] for _ in _TERMS]
    for index, section in enumerate(sections):
        seats[section.term].extend([index] * section.capacity)

    taken_courses: list[set[int]] = [set() for _ in range(n_students)]  # never a course twice
    cells: list[set[tuple[int, int]]] = [set() for _ in range(n_pairs)]  # (pattern, slot)
    credits = [0] * n_pairs
    rows: list[tuple[int, int, datetime]] = []

    def enroll(pair: int, wanted: int) -> int:
        """Enroll one student in up to `wanted` sections of one term; return how many."""
        student, term = divmod(pair, len(_TERMS))
        start, end = _ENROLLMENT_WINDOWS[_TERMS[term]]
        moment = start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))
        pool = seats[term]
        got = 0
        for _ in range(wanted):
            for _attempt in range(40):
                if not pool:
                    return got
                k = rng.randrange(len(pool))
                section = sections[pool[k]]
                course_credits = courses[section.course][4]
                if (
                    section.course in taken_courses[student]
                    or (section.pattern, section.slot) in cells[pair]
                    or credits[pair] + course_credits > _MAX_CREDITS_PER_TERM
                ):
                    continue
                rows.append((student + 1, pool[k] + 1, moment))
                pool[k] = pool[-1]
                pool.pop()
                taken_courses[student].add(section.course)
                cells[pair].add((section.pattern, section.slot))
                credits[pair] += course_credits
                moment += timedelta(minutes=rng.randrange(1, 15), seconds=rng.randrange(60))
                got += 1
                break
            else:
                break  # this student finds nothing more that fits
        return got

    order = list(range(n_pairs))
    rng.shuffle(order)
    shortfall = sum(wants[pair] - enroll(pair, wants[pair]) for pair in order)
    # Whatever could not be placed goes to random students who still have room.
    attempts = 0
    while shortfall:
        attempts += 1
        if attempts > 100 * total:  # pragma: no cover
            raise RuntimeError("could not place every enrollment")
        shortfall -= enroll(rng.randrange(n_pairs), 1)
    rows.sort(key=lambda r: (r[2], r[0], r[1]))
    return rows
