"""What the checks share: the settings, the clients, and the data and accounts they create
through the API (unique names, never fixed ids, never the server's own sample data)."""

import random
import re
import secrets
import shlex
import string
import subprocess
from dataclasses import dataclass, field
from itertools import count

from scheduler_conformance.http import Client, Deadline, Journal, Reply
from scheduler_conformance.registry import CheckFailed, CheckSkipped, expect, expect_json

# What a verification token looks like in a mail or a command's output: one long "word".
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_\-.~+/=]{16,}")
PASSWORD = "conformance-Pa55"


@dataclass
class Settings:
    """The run's options, as the command line gave them."""

    base_url: str
    # The unit whose contract the server keeps: from Unit 4 on, a full section waitlists.
    unit: int = 2
    admin_email: str | None = None
    admin_password: str | None = None
    database_url: str | None = None
    verify_command: str | None = None
    instructor_command: str | None = None
    secret_key: str | None = None
    request_timeout: float = 10.0
    run_limit: float = 600.0
    concurrency: int = 8


@dataclass
class Account:
    """A user the suite made or was given, with a client that sends its access token."""

    email: str
    password: str
    user: dict
    client: Client
    tokens: dict = field(default_factory=dict)

    @property
    def student_id(self) -> int | None:
        """The student record this account is linked to."""
        return self.user.get("student_id")


class World:
    """The run's shared state: clients, a source of unique names, and the admin account."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.deadline = Deadline(settings.run_limit)
        self.journal = Journal()  # every reply of the run, for lesson 3.6 to validate
        self.anonymous = Client(
            settings.base_url, settings.request_timeout, self.deadline, journal=self.journal
        )
        self.run_tag = "".join(random.choices(string.ascii_uppercase, k=3))
        self.serial = count(1)
        # A term no other data is likely to use, so filters by term see only this run's sections.
        self.term_year = random.randint(2100, 2999)
        self._admin: Account | None = None
        self.admin_login_reply: Reply | None = None

    # --- unique values -------------------------------------------------------------------
    def unique(self) -> int:
        """A number not used before in this run."""
        return next(self.serial)

    def course_code(self) -> str:
        """A course code like CS101 that no other run or data is likely to hold."""
        return f"Q{self.run_tag}{1000 + self.unique()}"

    def email(self, kind: str) -> str:
        """A fresh email address."""
        return f"{kind}.{secrets.token_hex(5)}@conformance.example.edu"

    def term(self, season: str = "fall") -> str:
        """This run's term (or the same year's other season)."""
        return f"{self.term_year}-{season}"

    # --- the admin -----------------------------------------------------------------------
    @property
    def writer(self) -> Client:
        """The client catalog writes go through: the admin's when credentials were given (and
        work), anonymous otherwise (Unit 1 servers have no accounts)."""
        admin = self.admin_account()
        return admin.client if admin else self.anonymous

    def admin_account(self) -> Account | None:
        """Log in as the admin once (None without credentials or when the login fails)."""
        if self._admin is None and self.admin_login_reply is None and self.settings.admin_email:
            reply = self.anonymous.post(
                "/auth/login",
                {"email": self.settings.admin_email, "password": self.settings.admin_password},
            )
            self.admin_login_reply = reply
            body = reply.json
            if reply.status == 200 and isinstance(body, dict) and body.get("access_token"):
                client = self.anonymous.with_token(body["access_token"])
                self._admin = Account(
                    self.settings.admin_email, self.settings.admin_password, {}, client, body
                )
        return self._admin

    def require_admin(self) -> Account:
        """The admin account, or fail (or skip without credentials) saying why."""
        if not self.settings.admin_email:
            raise CheckSkipped("needs --admin-email and --admin-password")
        admin = self.admin_account()
        if admin is None:
            raise CheckFailed(
                "could not log in with --admin-email/--admin-password",
                self.admin_login_reply.exchange,
            )
        return admin

    # --- catalog data --------------------------------------------------------------------
    def create(self, path: str, body: dict, client: Client | None = None) -> dict:
        """POST a new record through the writer and return it (a failure fails the check)."""
        reply = (client or self.writer).post(path, body)
        created = expect_json(reply, 201)
        expect(isinstance(created, dict) and "id" in created, "the created object has no id", reply)
        return created

    def course(self, **fields) -> dict:
        """A new course."""
        n = self.unique()
        body = {"code": self.course_code(), "title": f"Conformance course {n}", "credits": 3}
        return self.create("/courses", {**body, **fields})

    def instructor(self) -> dict:
        """A new instructor."""
        n = self.unique()
        return self.create(
            "/instructors", {"full_name": f"Instructor {n}", "email": self.email("instructor")}
        )

    def room(self, capacity: int = 30) -> dict:
        """A new room."""
        return self.create(
            "/rooms",
            {"name": f"Conformance {self.run_tag} room {self.unique()}", "capacity": capacity},
        )

    def student(self) -> dict:
        """A new student record (without an account)."""
        n = self.unique()
        return self.create(
            "/students", {"full_name": f"Student {n}", "email": self.email("student")}
        )

    def section_body(self, **fields) -> dict:
        """The body of a new section: its own course, instructor and room unless given."""
        body = {
            "term": self.term(),
            "capacity": 10,
            "days": ["MON", "WED"],
            "starts_at": "09:00",
            "ends_at": "10:15",
        }
        body.update(fields)
        if "course_id" not in body:
            body["course_id"] = self.course()["id"]
        if "instructor_id" not in body:
            body["instructor_id"] = self.instructor()["id"]
        if "room_id" not in body:
            body["room_id"] = self.room(max(30, body["capacity"]))["id"]
        return body

    def section(self, **fields) -> dict:
        """A new section (own course, instructor and room unless given)."""
        return self.create("/sections", self.section_body(**fields))

    # --- accounts ------------------------------------------------------------------------
    def register(self, email: str | None = None, password: str = PASSWORD) -> tuple[str, Reply]:
        """Register a new student account; return its email and the reply."""
        email = email or self.email("account")
        reply = self.anonymous.post(
            "/auth/register",
            {"email": email, "password": password, "full_name": f"Account {self.unique()}"},
        )
        return email, reply

    def login(self, email: str, password: str = PASSWORD) -> Reply:
        """POST /auth/login."""
        return self.anonymous.post("/auth/login", {"email": email, "password": password})

    def account(self, *, verified: bool = True) -> Account:
        """A new student account, verified unless asked otherwise, logged in."""
        email, reply = self.register()
        user = expect_json(reply, 201)
        if verified:
            token = self.verification_token(email)
            expect_json(self.anonymous.post("/auth/verify", {"token": token}), 200)
        login = self.login(email)
        tokens = expect_json(login, 200)
        expect(isinstance(tokens, dict) and "access_token" in tokens, "no access_token", login)
        client = self.anonymous.with_token(tokens["access_token"])
        return Account(email, PASSWORD, user, client, tokens)

    def instructor_account(self, instructor: dict) -> Account:
        """A login for an instructor record, made by --instructor-command (staff accounts
        are never made over the API), logged in."""
        if not self.settings.instructor_command:
            raise CheckSkipped("needs --instructor-command to give an instructor an account")
        password = f"{PASSWORD}-{secrets.token_hex(4)}"
        self.run_command(
            "--instructor-command",
            self.settings.instructor_command,
            {
                "instructor_id": str(instructor["id"]),
                "email": instructor["email"],
                "password": password,
            },
        )
        login = self.login(instructor["email"], password)
        tokens = expect_json(login, 200)
        client = self.anonymous.with_token(tokens["access_token"])
        return Account(instructor["email"], password, {}, client, tokens)

    def run_command(self, option: str, template: str, values: dict[str, str]) -> str:
        """Run a shell command given as an option, each {name} replaced by its value as one
        shell word; return what it printed, or fail saying what went wrong."""
        command = template
        for name, value in values.items():
            command = command.replace(f"{{{name}}}", shlex.quote(value))
        result = subprocess.run(
            command,
            shell=True,
            capture_output=True,
            text=True,
            timeout=self.settings.request_timeout * 3,
            check=False,
        )
        if result.returncode != 0:
            raise CheckFailed(f"{option} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def verification_token(self, email: str) -> str:
        """The newest verification token mailed to `email`, from the outbox or the command."""
        if self.settings.verify_command:
            printed = self.run_command(
                "--verify-command", self.settings.verify_command, {"email": email}
            )
            return last_token(printed, f"the output of --verify-command for {email}")
        if self.settings.database_url:
            return last_token(
                outbox_body(self.settings.database_url, email), f"the mail to {email}"
            )
        raise CheckSkipped(
            "needs --database-url or --verify-command to read the verification token"
        )


def last_token(text: str, where: str) -> str:
    """The last token-like word of `text` (a mail body ends with, or is, the token)."""
    found = TOKEN_PATTERN.findall(text)
    if not found:
        raise CheckFailed(f"found no verification token in {where}")
    return found[-1]


def newest_mail(database_url: str, email: str) -> dict | None:
    """The newest mail to `email` in the outbox table (all its columns), or None."""
    import psycopg  # only `--database-url` needs it: the extra `scheduler-conformance[database]`
    from psycopg.rows import dict_row

    with psycopg.connect(database_url, connect_timeout=10, row_factory=dict_row) as conn:
        return conn.execute(
            "SELECT * FROM outbox WHERE lower(to_address) = lower(%s)"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            (email,),
        ).fetchone()


def outbox_body(database_url: str, email: str) -> str:
    """The body of the newest mail to `email` in the outbox table."""
    mail = newest_mail(database_url, email)
    if mail is None:
        raise CheckFailed(f"no mail to {email} in the outbox")
    return mail["body"]
