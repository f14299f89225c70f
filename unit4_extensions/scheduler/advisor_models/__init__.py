"""The models the advisor can ask, behind one small interface (lesson 4.7).

A provider takes a `Prompt` and returns an `Answer`: the model's text, verbatim, and what it
cost. It never interprets the text; the advisor service parses and checks it, whoever wrote
it. `provider_for` picks one from the settings: `offline` (the default: deterministic, no
network, no key) or `openai`, any server that speaks OpenAI's chat completions API.
"""

from scheduler.advisor_models.interface import OFFLINE_MODEL, Provider
from scheduler.advisor_models.offline import OfflinePlanner
from scheduler.advisor_models.openai_compatible import OpenAICompatible


# --8<-- [start:provider-for]
def provider_for(config: dict) -> Provider:
    """The provider the settings choose, configured from them."""
    if config["ADVISOR_PROVIDER"] == "openai":
        return OpenAICompatible(
            base_url=config["ADVISOR_BASE_URL"],
            api_key=config["ADVISOR_API_KEY"],
            model=config["ADVISOR_MODEL"],
            timeout=config["ADVISOR_TIMEOUT"],
            max_retries=config["ADVISOR_MAX_RETRIES"],
        )
    return OfflinePlanner()
    # --8<-- [end:provider-for]


def model_name(config: dict) -> tuple[str, str]:
    """The provider and model the settings choose, by name, to record with each request."""
    if config["ADVISOR_PROVIDER"] == "openai":
        return "openai", config["ADVISOR_MODEL"]
    return "offline", OFFLINE_MODEL
