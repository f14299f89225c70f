"""The course's lessons, by unit, and which units the suite can check so far."""

LESSONS = {
    "1.1": "From Idea to Shape",
    "1.2": "Tables, Rows, Relations",
    "1.3": "SQL as the Source",
    "1.4": "Flask App Structure",
    "1.5": "First Endpoints Live",
    "1.6": "CRUD Across Entities",
    "1.7": "Data Access Boundaries",
    "1.8": "Errors That Matter",
    "2.1": "Auth as Infrastructure",
    "2.2": "JWT in Practice",
    "2.3": "Protecting Routes",
    "2.4": "Authorization Rules",
    "2.5": "User State Matters",
    "2.6": "Input Validation",
    "2.7": "SQL Safety in Practice",
    "2.8": "Business Logic Layers",
    "3.1": "What to Test First",
    "3.2": "Pytest for APIs",
    "3.3": "Testing Auth Flows",
    "3.4": "Database in Tests",
    "3.5": "Error Paths Are Features",
    "3.6": "API Documentation That Helps",
    "3.7": "Project Readability Review",
    "3.8": "End-to-End Confidence Check",
    "4.1": "Intro to Docker: Why Containers Exist",
    "4.2": "First Dockerfile",
    "4.3": "Configuration in Containers",
    "4.4": "App + Database Together",
    "4.5": "Schema Changes Over Time",
    "4.6": "External Authentication",
    "4.7": "GenAI as a Backend Feature",
    "4.8": "GenAI in Real Flows",
    "4.9": "Background Work",
    "4.10": "End-to-End Confidence",
}
UNITS = sorted({int(lesson.split(".")[0]) for lesson in LESSONS})
# Units whose checks exist; a later unit's lessons are reported as not yet available.
AVAILABLE_UNITS = {1, 2, 3, 4}
# Lessons that teach what HTTP cannot see: how the server's own code and tests are written.
# The card lists them with the reason instead of inventing a check; they never fail a run.
NOT_CHECKED_OVER_HTTP = {
    "3.2": "it teaches writing the server's own tests (builders, parametrize, properties); "
    "the rules those tests prove are checked in 1.2, 1.7 and 2.8",
    "3.4": "it teaches how the server's own tests prepare and isolate their data and inject "
    "the clock; from outside, a run makes its own data the same way",
    "3.7": "it teaches reviewing the code itself (structure, names, dead code, module size), "
    "which a linter sees and HTTP does not",
    "4.1": "it teaches why containers exist; from outside, a server in a container answers "
    "like any other",
    "4.2": "it teaches writing the image's Dockerfile, which HTTP cannot see",
    "4.3": "it teaches configuration from the environment; the suite sees only the server "
    "that configuration made",
    "4.4": "it teaches running the app and its database together with compose, which HTTP "
    "cannot see",
    "4.5": "it teaches migrations, how the schema changes over time; the waitlist they add "
    "is checked in 1.7 and 4.9",
    "4.6": "it needs an OpenID Connect provider the server trusts, which the suite cannot be "
    "over plain HTTP; the server's own tests sign in through a real one",
    "4.10": "it teaches the server's own system tests (real processes, a paused database, a "
    "killed worker), which run against the server's insides, not its HTTP contract",
}


def unit_of(lesson: str) -> int:
    """The unit a lesson belongs to ("2.6" → 2)."""
    return int(lesson.split(".")[0])


def lesson_order(lesson: str) -> tuple[int, int]:
    """Sort key that puts 4.10 after 4.9."""
    unit, number = lesson.split(".")
    return int(unit), int(number)
