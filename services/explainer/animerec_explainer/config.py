"""Settings of the explainer service (one env var per field; no secret has a default)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from animerec_shared.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    """Explainer settings; the OpenAI ones are optional and the service works without them."""

    # OpenAI or any OpenAI-compatible server; without a key every answer is the template.
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout_seconds: float = Field(5.0, gt=0, le=120)

    # Checks on the LLM answer and how long to wait for it.
    explainer_llm_max_chars: int = Field(600, ge=50, le=5000)
    explainer_llm_max_tokens: int = Field(220, ge=16, le=2000)
    explainer_llm_temperature: float = Field(0.4, ge=0, le=2)
    explainer_llm_max_retry_after_seconds: float = Field(1.0, ge=0, le=30)
    explainer_llm_concurrency: int = Field(8, ge=1, le=256)
    explainer_title_catalogue: bool = True
    explainer_catalogue_refresh_seconds: float = Field(600.0, ge=1)

    # Upstream, batch and cache.
    explainer_recommender_timeout_seconds: float = Field(5.0, gt=0, le=120)
    explainer_batch_concurrency: int = Field(4, ge=1, le=20)
    explainer_cache_ttl_seconds: int = Field(86_400, ge=1)

    @property
    def llm_enabled(self) -> bool:
        """Returns True when an OpenAI key is configured."""
        return bool(self.openai_api_key and self.openai_api_key.get_secret_value().strip())
