"""What the business rules refuse with: domain errors that know nothing of HTTP.

`scheduler.errors` turns each into its problem+json answer at the edge; a CLI or a worker
catches the same errors and reports them its own way.
"""


# --8<-- [start:domain-errors]
class DomainError(Exception):
    """A refusal the caller should hear about; `detail` says why, in plain words."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """No such record."""


class Conflict(DomainError):
    """The request contradicts the current state (duplicates, references, full sections)."""


class Forbidden(DomainError):
    """The caller is known, but not allowed: role, ownership or an unverified account."""


class ValidationFailed(DomainError):
    """Values that break the rules; `errors` names each field and what is wrong with it."""

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.errors = errors


# --8<-- [start:too-many-requests]
class TooManyRequests(DomainError):
    """Throttled; `retry_after` says how many seconds to wait."""

    def __init__(self, detail: str, *, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after
        # --8<-- [end:too-many-requests]
        # --8<-- [end:domain-errors]


# --8<-- [start:auth-errors]
class NotAuthenticated(DomainError):
    """The caller presented no credentials where some are needed."""


class InvalidCredentials(DomainError):
    """The email or the password is wrong (which one is never said)."""


class TokenRejected(DomainError):
    """A presented token (access or refresh) is malformed, expired, forged or spent."""

    # --8<-- [end:auth-errors]


# --8<-- [start:unavailable]
class Unavailable(DomainError):
    """Something the answer depends on (an identity provider's keys) cannot be had right now;
    `retry_after` says how many seconds to wait."""

    def __init__(self, detail: str, *, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after
        # --8<-- [end:unavailable]
