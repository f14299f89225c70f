"""The one small interface every model provider has: a `Prompt` in, an `Answer` out."""

from dataclasses import dataclass
from typing import Protocol

OFFLINE_MODEL = "offline-planner"


# --8<-- [start:interface]
@dataclass(frozen=True)
class Prompt:
    """What the model is asked: chat `messages` for a language model, and the same `facts`
    as data, which the offline planner reads instead of prose."""

    messages: list[dict]
    facts: dict


@dataclass(frozen=True)
class Answer:
    """The model's reply as it came, the model that wrote it and the tokens it cost (None
    when the provider does not count them)."""

    text: str
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ModelUnavailable(Exception):
    """The model gave no usable reply (timed out, throttled, failing, unreachable) after the
    retries it was allowed; `reason` says which in words safe to store and show."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Provider(Protocol):
    """Anything that can answer a prompt."""

    name: str
    model: str

    def complete(self, prompt: Prompt) -> Answer:
        """Ask the model; raise ModelUnavailable when no reply comes."""
        # --8<-- [end:interface]
