"""Any server that speaks OpenAI's chat completions API: OpenAI itself, Azure OpenAI, or a
model on your own machine under Ollama, vLLM or llama.cpp's server (lesson 4.7).

The `openai` SDK does the HTTP: the timeout for each attempt, and retries with exponential
backoff (honouring `Retry-After`) on timeouts, 429 and 5xx. What reaches us after that is a
failure, told in our own words: an SDK message may quote a response body, which a server
could fill with anything, the key included.
"""

import openai

from scheduler.advisor_models.interface import Answer, ModelUnavailable, Prompt

# Local servers (Ollama, llama.cpp) want no key, but the SDK refuses to start without one.
NO_KEY = "no-key"


class OpenAICompatible:
    """A chat model behind an OpenAI-compatible endpoint, asked for a JSON object."""

    name = "openai"

    def __init__(
        self, *, base_url: str, api_key: str, model: str, timeout: float, max_retries: int
    ):
        self.model = model
        self.timeout = timeout
        self.max_retries = max_retries
        # --8<-- [start:client]
        self.client = openai.OpenAI(
            api_key=api_key or NO_KEY,
            base_url=base_url or None,  # None: OpenAI's own API
            timeout=timeout,  # seconds, for each attempt
            max_retries=max_retries,  # after the first attempt; backoff between them
        )
        # --8<-- [end:client]

    # --8<-- [start:complete]
    def complete(self, prompt: Prompt) -> Answer:
        """Ask the model for a JSON object; raise ModelUnavailable when no reply comes."""
        tries = f"after {self.max_retries + 1} attempt(s)"
        try:
            completion = self.client.chat.completions.create(
                model=self.model,
                messages=prompt.messages,
                response_format={"type": "json_object"},
                temperature=0,  # the same facts should give the same plan, as far as it can
            )
        except openai.APITimeoutError:
            raise ModelUnavailable(
                f"The model did not answer in {self.timeout:g} s ({tries})."
            ) from None
        except openai.APIStatusError as error:
            raise ModelUnavailable(
                f"The model service answered HTTP {error.status_code} ({tries})."
            ) from None
        except openai.APIConnectionError:
            raise ModelUnavailable(f"The model service could not be reached ({tries}).") from None
        except openai.APIError:  # a 2xx whose body is no chat completion
            raise ModelUnavailable("The model service's reply was not a chat completion.") from None
        usage = completion.usage
        text = completion.choices[0].message.content if completion.choices else None
        return Answer(
            text=text or "",
            model=completion.model or self.model,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
        )
        # --8<-- [end:complete]
