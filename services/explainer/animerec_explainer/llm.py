"""Wording the facts with an OpenAI-compatible chat model, with every failure named.

Time is bounded: the client has ``max_retries=0`` and one budget (``EXPLAINER_LLM_TIMEOUT_SECONDS``)
covers the call and the one retry after a 429 whose Retry-After is short (at most
``EXPLAINER_LLM_MAX_RETRY_AFTER_SECONDS`` and inside the budget). A longer Retry-After falls back
at once and pauses LLM calls for that long (capped at 60 s), so a rate-limited key is not hammered.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import openai
from openai.types.chat import ChatCompletionMessageParam

from .guard import TitleCatalogue, unknown_titles, unverified_claims
from .prompt import build_messages

log = logging.getLogger("animerec.explainer.llm")
MAX_COOLDOWN_S = 60.0
_SPACES = re.compile(r"\s+")


@dataclass
class LLMResult:
    """The LLM text, or None with the fallback reason."""

    text: str | None
    reason: str | None = None
    detail: str | None = None


def retry_after_seconds(headers: Any) -> float | None:
    """Returns the wait a 429 asks for (retry-after-ms, retry-after seconds or HTTP date), or None."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


class LLMWriter:
    """Asks the chat model for the explanation and checks the answer."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        *,
        model: str,
        timeout_s: float,
        max_chars: int,
        max_tokens: int,
        temperature: float,
        max_retry_after_s: float,
        concurrency: int,
    ):
        self.client = client
        self.model = model
        self.timeout_s = timeout_s
        self.max_chars = max_chars
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.max_retry_after_s = max_retry_after_s
        self._slots = asyncio.Semaphore(concurrency)
        self._paused_until = 0.0

    async def _complete(self, messages: list[ChatCompletionMessageParam], deadline: float) -> LLMResult | Any:
        """Returns the completion, or an LLMResult naming the failure; retries one short 429."""
        for attempt in (1, 2):
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                return LLMResult(None, "llm_timeout", "time budget spent")
            try:
                return await asyncio.wait_for(
                    self.client.chat.completions.create(
                        model=self.model,
                        messages=messages,
                        max_tokens=self.max_tokens,
                        temperature=self.temperature,
                        timeout=remaining,
                    ),
                    timeout=remaining + 0.25,
                )
            except (TimeoutError, openai.APITimeoutError):
                return LLMResult(None, "llm_timeout", f"no answer within {self.timeout_s:g}s")
            except openai.RateLimitError as exc:
                wait = retry_after_seconds(getattr(exc.response, "headers", None))
                if (
                    attempt == 1
                    and wait is not None
                    and wait <= self.max_retry_after_s
                    and time.monotonic() + wait + 0.1 < deadline
                ):
                    await asyncio.sleep(wait)
                    continue
                pause = min(MAX_COOLDOWN_S, wait if wait is not None else 1.0)
                self._paused_until = max(self._paused_until, time.monotonic() + pause)
                return LLMResult(None, "llm_rate_limited", f"429, retry after {wait if wait is not None else '?'}s")
            except openai.APIStatusError as exc:
                return LLMResult(None, "llm_error", f"HTTP {exc.status_code}")
            except (openai.OpenAIError, ValueError) as exc:
                return LLMResult(None, "llm_error", type(exc).__name__)
        return LLMResult(None, "llm_rate_limited", "429 after retry")  # pragma: no cover (loop returns)

    async def write(
        self, payload: dict[str, Any], facts: dict[str, Any], catalogue: TitleCatalogue | None, cold_start: bool = False
    ) -> LLMResult:
        """Returns the checked LLM wording of the facts, or the reason to use the template.

        ``cold_start``: the person gave a liked list (no ratings), for the claim check.
        """
        if time.monotonic() < self._paused_until:
            return LLMResult(None, "llm_rate_limited", "paused after a 429")
        deadline = time.monotonic() + self.timeout_s
        async with self._slots:
            outcome = await self._complete(build_messages(payload), deadline)
        if isinstance(outcome, LLMResult):
            log.info("llm fallback: %s (%s)", outcome.reason, outcome.detail)
            return outcome
        try:
            choice = outcome.choices[0]
            text = _SPACES.sub(" ", choice.message.content or "").strip()
        except (AttributeError, IndexError, TypeError):
            return LLMResult(None, "llm_error", "malformed completion")
        if not text:
            return LLMResult(None, "llm_empty")
        if len(text) > self.max_chars or choice.finish_reason == "length":
            return LLMResult(None, "llm_too_long", f"{len(text)} chars, finish_reason={choice.finish_reason}")
        strangers = unknown_titles(text, facts, catalogue)
        if strangers:
            log.info("llm named titles not among the facts: %s", strangers[:5])
            return LLMResult(None, "llm_unknown_title", ", ".join(strangers[:5]))
        claims = unverified_claims(text, facts, catalogue, cold_start)
        if claims:
            log.info("llm claimed what the facts do not hold: %s", claims[:5])
            return LLMResult(None, "llm_unverified_claim", "; ".join(claims[:5]))
        return LLMResult(text)
