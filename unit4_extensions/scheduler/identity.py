"""Who is acting: a plain value that services decide on, whatever transport built it."""

from dataclasses import dataclass


# --8<-- [start:identity]
@dataclass(frozen=True)
class Identity:
    """The authenticated user, as the database knows them right now."""

    user_id: int
    role: str
    is_verified: bool
    student_id: int | None
    instructor_id: int | None

    @classmethod
    def of(cls, user: dict) -> "Identity":
        """The identity of a user row (role and verification as stored, not as in a token)."""
        return cls(
            user_id=user["id"],
            role=user["role"],
            is_verified=user["is_verified"],
            student_id=user["student_id"],
            instructor_id=user["instructor_id"],
        )

    @property
    def is_admin(self) -> bool:
        """Admins may act for anyone."""
        return self.role == "admin"
        # --8<-- [end:identity]
