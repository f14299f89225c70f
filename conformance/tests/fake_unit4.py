"""The fake's Unit 4 part: accounts (just enough to log in and verify), dropping with a
promotion in the background, and the advisor's 202 flow, with switches that break each one
(no promotion, a plan accepted twice, a plan any student may read)."""

import re
import threading
from itertools import count

TERM = re.compile(r"\d{4}-(spring|summer|fall|winter)")
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@fake.example.edu", "fake-admin-password"
# The suite's --verify-command for this fake: a verification token is the address, @ → _.
VERIFY_COMMAND = "echo {email} | tr @ _"
BACKGROUND_DELAY = 0.3  # seconds the fake's "worker" takes to promote or to make a plan


def problem(status: int, detail: str) -> tuple[int, dict, dict]:
    """An RFC 9457 problem answer."""
    body = {"type": "about:blank", "title": "Problem", "status": status, "detail": detail}
    return status, body, {"Content-Type": "application/problem+json"}


class FakeUnit4:
    """Users, plans and the background work of one FakeScheduler."""

    def __init__(self, fake, *, promote: bool, accept_twice: bool, plans_for_anyone: bool):
        self.fake = fake
        self.promote = promote
        self.accept_twice = accept_twice
        self.plans_for_anyone = plans_for_anyone
        self.users: dict[int, dict] = {0: {"id": 0, "email": ADMIN_EMAIL, "role": "admin"}}
        self.passwords = {ADMIN_EMAIL: ADMIN_PASSWORD}
        self.plans: dict[int, dict] = {}
        self.ids = count(1)

    def handle(self, method: str, path: str, body, token: str | None):
        """Answer a Unit 4 (or account) request, or None when it is not one."""
        user = self.users.get(int(token.removeprefix("token-"))) if token else None
        if method == "POST" and path.startswith("/api/v1/auth/"):
            return self.auth(path.removeprefix("/api/v1/auth/"), body)
        drop = re.fullmatch(r"/api/v1/sections/(\d+)/enrollments/(\d+)", path)
        if method == "DELETE" and drop:
            return self.drop(int(drop[1]), int(drop[2]))
        roster = re.fullmatch(r"/api/v1/sections/(\d+)/enrollments", path)
        if method == "GET" and roster:
            return self.roster(int(roster[1]))
        plan = re.fullmatch(r"/api/v1/advisor/plans(?:/(\d+)(/accept)?)?", path)
        if plan and user is None:
            return problem(401, "Log in first.")
        if plan and method == "POST" and not plan[1]:
            return self.ask(user, body)
        if plan and plan[1] and int(plan[1]) in self.plans:
            return self.plan(user, int(plan[1]), method == "POST" and bool(plan[2]))
        return None

    def auth(self, action: str, body: dict):
        """Register, verify (the token is the address, @ → _) and log in."""
        if action == "register":
            student = self.fake.create("students", {"full_name": body["full_name"]})[1]
            user_id = next(self.ids)
            user = {"id": user_id, "email": body["email"], "role": "student"}
            self.users[user_id] = {**user, "is_verified": False, "student_id": student["id"]}
            self.passwords[body["email"]] = body["password"]
            return 201, {**self.users[user_id], "instructor_id": None}, {}
        if action == "verify":
            for user in self.users.values():
                if user["email"].replace("@", "_") == body["token"]:
                    user["is_verified"] = True
                    return 200, {"status": "verified"}, {}
            return problem(400, "No such token.")
        if action == "login" and self.passwords.get(body["email"]) == body["password"]:
            user_id = next(u["id"] for u in self.users.values() if u["email"] == body["email"])
            return 200, {"access_token": f"token-{user_id}", "token_type": "Bearer"}, {}
        return problem(401, "Wrong email or password.")

    def later(self, work) -> None:
        """Do `work` in the background, BACKGROUND_DELAY from now."""
        threading.Timer(BACKGROUND_DELAY, work).start()

    def drop(self, section_id: int, student_id: int):
        """Drop an enrollment; the one first in line gets the seat in the background."""
        with self.fake.lock:
            seated = self.fake.enrolled.get(section_id, [])
            if student_id not in seated:
                return problem(404, "Not enrolled.")
            seated.remove(student_id)
        if self.promote:
            self.later(lambda: self.promote_first(section_id))
        return 204, None, {}

    def promote_first(self, section_id: int) -> None:
        """Seat the first in line (the background job)."""
        with self.fake.lock:
            waiting = self.fake.waiting.get(section_id)
            if waiting:
                self.fake.enrolled[section_id].append(waiting.pop(0))

    def roster(self, section_id: int):
        """The seated students, in the list envelope."""
        items = [{"student": {"id": sid}} for sid in self.fake.enrolled.get(section_id, [])]
        return 200, {"items": items, "total": len(items), "limit": 20, "offset": 0}, {}

    def ask(self, user: dict, body):
        """A verified student's request: 202 and where to poll; the plan is made later."""
        if not user.get("is_verified"):
            return problem(403, "Verify your address first.")
        errors = {}
        if not (isinstance(body.get("term"), str) and TERM.fullmatch(body["term"])):
            errors["term"] = ["not a term"]
        if not isinstance(body.get("goals"), str):
            errors["goals"] = ["not text"]
        if errors:
            status, invalid, headers = problem(422, "Invalid body.")
            return status, {**invalid, "errors": errors}, headers
        plan_id = next(self.ids)
        plan = {"id": plan_id, "student_id": user["student_id"], "status": "pending"}
        self.plans[plan_id] = {**plan, "term": body["term"], "accepted": False}
        self.later(lambda: self.make(plan_id))
        return 202, plan, {"Location": f"/api/v1/advisor/plans/{plan_id}"}

    def make(self, plan_id: int) -> None:
        """The background job: every section of the term, with the model's numbers."""
        plan = self.plans[plan_id]
        sections = self.fake.records["sections"].values()
        items = [
            {"section_id": s["id"], "reason": "fits"} for s in sections if s["term"] == plan["term"]
        ]
        plan.update(status="ready", plan=items, model="fake-model", prompt_tokens=5)
        plan.update(completion_tokens=7, latency_ms=3)

    def plan(self, user: dict, plan_id: int, accept: bool):
        """Read a plan, or accept it (once, when ready): each section's enrollment result."""
        plan = self.plans[plan_id]
        if plan["student_id"] != user.get("student_id") and not self.plans_for_anyone:
            return problem(403, "Not your plan.")
        if accept:
            if plan["status"] != "ready" or (plan["accepted"] and not self.accept_twice):
                return problem(409, "Only a ready plan, once.")
            plan["accepted"] = True
            plan["acceptance"] = [
                {"section_id": item["section_id"], "outcome": self.outcome(item, plan)}
                for item in plan["plan"]
            ]
        return 200, {k: v for k, v in plan.items() if k not in ("accepted", "term")}, {}

    def outcome(self, item: dict, plan: dict) -> str:
        """Enroll the plan's student in one section; say how it went."""
        status, body, _ = self.fake.enroll(item["section_id"], plan["student_id"])
        return body["status"] if status == 201 else "refused"
