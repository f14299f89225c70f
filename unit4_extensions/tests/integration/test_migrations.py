"""The migrations (lesson 4.5) on real databases: a Unit 3 database full of data is adopted and
upgraded with nothing lost and every constraint kept; downgrade and upgrade round-trip; an
upgrade is idempotent; what cannot be migrated safely is refused and changes nothing.

"A Unit 3 database" is built as Unit 3's `init-db` built one: its two schema files run as
plain SQL (they are the baseline migrations, byte for byte below their header comments), with
no record of them, then Unit 3-era rows in every table.
"""

import itertools
import os
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from scheduler import migrator
from scheduler_common.seed import seed_database
from scheduler_common.testing import conninfo

MIGRATIONS = files("scheduler") / "migrations"
UNIT3_SCHEMA = Path(__file__).resolve().parents[3] / "unit3_quality" / "scheduler" / "schema"
YOYO_TABLES = ("_yoyo_log", "_yoyo_migration", "_yoyo_version", "yoyo_lock")
BASELINE = list(migrator.BASELINE)
# Unit 4's own migrations, oldest first: what an upgrade of a Unit 3 database applies.
UNIT4 = sorted(
    path.name.removesuffix(".sql")
    for path in MIGRATIONS.iterdir()
    if path.name.endswith(".sql")
    and not path.name.endswith(".rollback.sql")
    and path.name.removesuffix(".sql") not in BASELINE
)
UNIT3_TEMPLATE = f"unit3_template_{os.getpid()}"

# Everything a schema is made of, but not what an extension (btree_gist) or yoyo brings.
CATALOGUE = """
    SELECT 'column' AS kind, table_name || '.' || column_name AS name,
           concat_ws(' ', data_type, is_nullable, column_default, generation_expression) AS def
      FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name NOT IN (SELECT unnest(%(yoyo)s::text[]))
    UNION ALL
    SELECT 'constraint', conrelid::regclass || '.' || conname, pg_get_constraintdef(oid)
      FROM pg_constraint
     WHERE connamespace = 'public'::regnamespace
       AND conrelid::regclass::text NOT IN (SELECT unnest(%(yoyo)s::text[]))
    UNION ALL
    SELECT 'index', indexname, indexdef
      FROM pg_indexes
     WHERE schemaname = 'public' AND tablename NOT IN (SELECT unnest(%(yoyo)s::text[]))
    UNION ALL
    SELECT 'function', p.oid::regprocedure::text, pg_get_functiondef(p.oid)
      FROM pg_proc AS p
     WHERE p.pronamespace = 'public'::regnamespace
       AND NOT EXISTS (SELECT FROM pg_depend WHERE objid = p.oid AND deptype = 'e')
    UNION ALL
    SELECT 'type', t.typname,
           (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder)
              FROM pg_enum WHERE enumtypid = t.oid)
      FROM pg_type AS t WHERE t.typnamespace = 'public'::regnamespace AND t.typtype = 'e'
    UNION ALL
    SELECT 'sequence', sequencename, data_type::text
      FROM pg_sequences WHERE schemaname = 'public'
"""


def catalogue(url: str) -> set[tuple[str, str, str]]:
    """Every column, constraint, index, function, enum and sequence of the schema."""
    with psycopg.connect(url) as conn:
        return set(conn.execute(CATALOGUE, {"yoyo": list(YOYO_TABLES)}).fetchall())


def tables(url: str) -> dict[str, list[str]]:
    """The schema's tables (yoyo's aside) and their columns."""
    columns: dict[str, list[str]] = {}
    for kind, name, _ in sorted(catalogue(url)):
        if kind == "column":
            table, column = name.split(".")
            columns.setdefault(table, []).append(column)
    return columns


def rows(url: str, columns: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every row of the given tables, only the given columns, sorted: compare to see that
    nothing was lost or changed."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return {
            table: sorted(
                repr(sorted(row.items()))
                for row in conn.execute(
                    sql.SQL("SELECT {} FROM {}").format(
                        sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(table)
                    )
                )
            )
            for table, names in columns.items()
        }


def run_baseline_by_hand(url: str, migration_ids: list[str]) -> None:
    """Build a schema as Units 1-3 did: the schema files as plain SQL, nothing recorded."""
    with psycopg.connect(url) as conn:
        for migration_id in migration_ids:
            conn.execute((MIGRATIONS / f"{migration_id}.sql").read_text())


def fill_unit3_tables(url: str) -> None:
    """Unit 3-era rows in every table: the seed (catalog, enrollments, accounts) and the
    account tables the seed leaves empty."""
    with psycopg.connect(url) as conn:
        seed_database(conn, scale=1, dev_accounts=True)
        first_users = "(SELECT id, email FROM users ORDER BY id LIMIT 3) AS u"
        for statement in (
            "INSERT INTO email_verifications (user_id, token_hash, expires_at)"
            " SELECT id, 'verify-' || id, now() + interval '1 day' FROM {}",
            "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)"
            " SELECT id, gen_random_uuid(), 'refresh-' || id, now() + interval '7 days' FROM {}",
            "INSERT INTO outbox (to_address, subject, body) SELECT email, 'Hi', 'Hello' FROM {}",
            "INSERT INTO failed_logins (email, client) SELECT email, '127.0.0.1' FROM {}",
        ):
            conn.execute(statement.format(first_users))


def create_database(admin_connection, name: str, template: str = "template1") -> None:
    admin_connection.execute(
        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)
        )
    )


@pytest.fixture(scope="module")
def unit3_template(postgresql_server, admin_connection) -> Iterator[str]:
    """A Unit 3 database with data, built once for this module and cloned by each test."""
    create_database(admin_connection, UNIT3_TEMPLATE)
    url = conninfo(postgresql_server, UNIT3_TEMPLATE)
    run_baseline_by_hand(url, BASELINE)
    fill_unit3_tables(url)
    yield UNIT3_TEMPLATE
    admin_connection.execute(
        sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(UNIT3_TEMPLATE))
    )


_numbers = itertools.count(1)


@pytest.fixture
def new_database(postgresql_server, admin_connection):
    """Make a database (empty, or a clone of a template) for this test; dropped afterwards."""
    made = []

    def make(template: str = "template1") -> str:
        name = f"migrated_{os.getpid()}_{next(_numbers)}"
        create_database(admin_connection, name, template)
        made.append(name)
        return conninfo(postgresql_server, name)

    yield make
    for name in made:
        admin_connection.execute(
            sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def unit3_database(unit3_template, new_database) -> str:
    """A fresh copy of the Unit 3 database with data."""
    return new_database(unit3_template)


def test_the_unit3_database_has_rows_in_every_table(unit3_database):
    counts = {
        table: len(found) for table, found in rows(unit3_database, tables(unit3_database)).items()
    }

    assert set(counts) == {table for tables_ in migrator.BASELINE.values() for table in tables_}
    assert all(counts.values()), counts


def test_upgrading_a_unit3_database_adopts_the_baseline_and_applies_the_rest(unit3_database):
    assert migrator.upgrade(unit3_database) == (BASELINE, UNIT4)

    assert all(state.applied for state in migrator.status(unit3_database))


# --8<-- [start:nothing-lost]
def test_upgrading_a_unit3_database_loses_nothing_and_keeps_every_constraint(unit3_database):
    before_catalogue = catalogue(unit3_database)
    unit3_columns = tables(unit3_database)
    before_rows = rows(unit3_database, unit3_columns)

    migrator.upgrade(unit3_database)

    assert rows(unit3_database, unit3_columns) == before_rows
    after = catalogue(unit3_database)
    assert before_catalogue <= after
    added = {(kind, name) for kind, name, _ in after - before_catalogue}
    added = {(kind, name) for kind, name in added if "procrastinate_" not in name}  # the queue's
    assert added == {
        ("column", "enrollments.status"),
        ("column", "enrollments.waitlist_ticket"),
        ("constraint", "enrollments.enrollments_status_valid"),
        ("constraint", "enrollments.enrollments_ticket_when_waitlisted"),
        ("index", "enrollments_waitlist_idx"),
        ("function", "waitlist_position(bigint,bigint)"),
        ("sequence", "enrollments_waitlist_ticket_seq"),
        ("column", "outbox.attempts"),
        ("column", "outbox.last_error"),
        ("column", "outbox.rejected_at"),
        # the advisor's plans (0005)
        ("column", "advisor_plans.id"),
        ("column", "advisor_plans.student_id"),
        ("column", "advisor_plans.term"),
        ("column", "advisor_plans.goals"),
        ("column", "advisor_plans.status"),
        ("column", "advisor_plans.provider"),
        ("column", "advisor_plans.model"),
        ("column", "advisor_plans.prompt"),
        ("column", "advisor_plans.response"),
        ("column", "advisor_plans.plan"),
        ("column", "advisor_plans.removed"),
        ("column", "advisor_plans.failure_reason"),
        ("column", "advisor_plans.prompt_tokens"),
        ("column", "advisor_plans.completion_tokens"),
        ("column", "advisor_plans.latency_ms"),
        ("column", "advisor_plans.created_at"),
        ("column", "advisor_plans.finished_at"),
        ("column", "advisor_plans.accepted_at"),
        ("column", "advisor_plans.acceptance"),
        ("constraint", "advisor_plans.advisor_plans_pkey"),
        ("constraint", "advisor_plans.advisor_plans_student_id_fkey"),
        ("constraint", "advisor_plans.advisor_plans_term_format"),
        ("constraint", "advisor_plans.advisor_plans_goals_length"),
        ("constraint", "advisor_plans.advisor_plans_status_valid"),
        ("constraint", "advisor_plans.advisor_plans_prompt_tokens_valid"),
        ("constraint", "advisor_plans.advisor_plans_completion_tokens_valid"),
        ("constraint", "advisor_plans.advisor_plans_latency_valid"),
        ("constraint", "advisor_plans.advisor_plans_finished_when_done"),
        ("constraint", "advisor_plans.advisor_plans_reason_when_failed"),
        ("constraint", "advisor_plans.advisor_plans_plan_when_ready"),
        ("constraint", "advisor_plans.advisor_plans_accepted_when_ready"),
        ("index", "advisor_plans_pkey"),
        ("index", "advisor_plans_student_created_idx"),
        ("sequence", "advisor_plans_id_seq"),
        # 0007: external sign-in (lesson 4.6).
        ("column", "external_identities.id"),
        ("column", "external_identities.issuer"),
        ("column", "external_identities.subject"),
        ("column", "external_identities.user_id"),
        ("column", "external_identities.created_at"),
        ("constraint", "external_identities.external_identities_pkey"),
        ("constraint", "external_identities.external_identities_issuer_not_blank"),
        ("constraint", "external_identities.external_identities_subject_not_blank"),
        ("constraint", "external_identities.external_identities_user_id_fkey"),
        ("constraint", "external_identities.external_identities_issuer_subject_key"),
        ("index", "external_identities_pkey"),
        ("index", "external_identities_issuer_subject_key"),
        ("index", "external_identities_user_id_idx"),
        ("sequence", "external_identities_id_seq"),
    }
    with psycopg.connect(unit3_database) as conn:
        statuses = conn.execute("SELECT DISTINCT status, waitlist_ticket FROM enrollments")
        assert statuses.fetchall() == [("enrolled", None)]  # everyone keeps their seat
        # --8<-- [end:nothing-lost]


def test_an_adopted_database_has_the_schema_of_one_migrated_from_empty(
    unit3_database, new_database
):
    empty = new_database()
    migrator.upgrade(empty)
    migrator.upgrade(unit3_database)

    assert catalogue(unit3_database) == catalogue(empty)


def test_downgrade_then_upgrade_round_trips_schema_and_rows(unit3_database):
    unit3_catalogue = catalogue(unit3_database)
    unit3_columns = tables(unit3_database)
    unit3_rows = rows(unit3_database, unit3_columns)
    migrator.upgrade(unit3_database)
    upgraded_catalogue = catalogue(unit3_database)
    upgraded_rows = rows(unit3_database, tables(unit3_database))

    assert migrator.downgrade(unit3_database, steps=len(UNIT4)) == UNIT4[::-1]
    assert catalogue(unit3_database) == unit3_catalogue
    assert rows(unit3_database, unit3_columns) == unit3_rows

    assert migrator.upgrade(unit3_database) == ([], UNIT4)
    assert catalogue(unit3_database) == upgraded_catalogue
    assert rows(unit3_database, tables(unit3_database)) == upgraded_rows


def test_every_migration_rolls_back_to_an_empty_schema_and_up_again(new_database):
    url = new_database()
    migrator.upgrade(url)
    migrated = catalogue(url)

    everything = [*BASELINE, *UNIT4]
    assert migrator.downgrade(url, steps=len(everything)) == everything[::-1]
    assert tables(url) == {}
    assert migrator.upgrade(url) == ([], everything)
    assert catalogue(url) == migrated


def test_an_upgrade_run_again_changes_nothing(unit3_database):
    migrator.upgrade(unit3_database)
    migrated = catalogue(unit3_database)

    assert migrator.upgrade(unit3_database) == ([], [])
    assert catalogue(unit3_database) == migrated


def test_a_unit1_database_is_adopted_at_the_first_migration(new_database):
    url = new_database()
    run_baseline_by_hand(url, BASELINE[:1])

    assert migrator.upgrade(url) == (BASELINE[:1], [*BASELINE[1:], *UNIT4])


def test_a_baseline_changed_by_hand_is_refused_and_left_alone(unit3_database):
    with psycopg.connect(unit3_database) as conn:
        conn.execute("DROP TABLE refresh_tokens")
    before = catalogue(unit3_database)

    with pytest.raises(migrator.MigrationError, match="refresh_tokens"):
        migrator.upgrade(unit3_database)

    assert catalogue(unit3_database) == before
    assert not any(state.applied for state in migrator.status(unit3_database))


def test_the_waitlist_rollback_refuses_while_anyone_waits(unit3_database):
    migrator.upgrade(unit3_database)
    later_ones = UNIT4[UNIT4.index("0003_waitlist") + 1 :]
    migrator.downgrade(unit3_database, steps=len(later_ones))
    with psycopg.connect(unit3_database) as conn:
        conn.execute(
            "UPDATE enrollments SET status = 'waitlisted',"
            " waitlist_ticket = nextval('enrollments_waitlist_ticket_seq')"
            " WHERE (section_id, student_id) ="
            " (SELECT section_id, student_id FROM enrollments LIMIT 1)"
        )
    before = catalogue(unit3_database)

    with pytest.raises(psycopg.errors.RaiseException, match="waitlist"):
        migrator.downgrade(unit3_database)

    assert catalogue(unit3_database) == before
    applied = [state.id for state in migrator.status(unit3_database) if state.applied]
    assert applied == [*BASELINE, "0003_waitlist"]


def test_the_job_queue_rollback_refuses_while_a_job_waits(new_database):
    url = new_database()
    migrator.upgrade(url)
    later_ones = UNIT4[UNIT4.index("0004_job_queue") + 1 :]
    migrator.downgrade(url, steps=len(later_ones))
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args)"
            " VALUES ('default', 'deliver_mail', '{}')"
        )
    before = catalogue(url)

    with pytest.raises(psycopg.errors.RaiseException, match="background jobs"):
        migrator.downgrade(url)

    assert catalogue(url) == before


def test_the_job_queue_migration_is_the_installed_procrastinates_schema():
    migration = (MIGRATIONS / "0004_job_queue.sql").read_text()
    shipped = (files("procrastinate") / "sql" / "schema.sql").read_text()

    assert below_the_header(migration) == below_the_header(shipped)


def below_the_header(text: str) -> list[str]:
    """A schema file's lines after its leading comments (the snippet markers are not those)."""
    lines = text.splitlines()
    while lines and (not lines[0] or (lines[0].startswith("--") and "--8<--" not in lines[0])):
        lines.pop(0)
    return lines


@pytest.mark.skipif(not UNIT3_SCHEMA.is_dir(), reason="Unit 3 is not in this checkout")
@pytest.mark.parametrize(
    ("migration_id", "schema_file"),
    [("0001_unit1_catalog", "unit1_catalog.sql"), ("0002_unit2_auth", "unit2_auth.sql")],
)
def test_the_baseline_is_unit3s_schema_below_the_header(migration_id, schema_file):
    migration = (MIGRATIONS / f"{migration_id}.sql").read_text()

    assert below_the_header(migration) == below_the_header((UNIT3_SCHEMA / schema_file).read_text())


def test_the_external_identities_rollback_refuses_while_anyone_signs_in_so(new_database):
    url = new_database()
    migrator.upgrade(url)
    later_ones = UNIT4[UNIT4.index("0007_external_identities") + 1 :]
    migrator.downgrade(url, steps=len(later_ones))
    with psycopg.connect(url) as conn:
        user_id = conn.execute(
            "INSERT INTO users (email, password_hash, role)"
            " VALUES ('ada@example.edu', 'x', 'admin') RETURNING id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO external_identities (issuer, subject, user_id)"
            " VALUES ('https://idp.example', 'ada', %s)",
            (user_id,),
        )
    before = catalogue(url)

    with pytest.raises(psycopg.errors.RaiseException, match="external identity provider"):
        migrator.downgrade(url)

    assert catalogue(url) == before
