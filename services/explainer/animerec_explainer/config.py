"""Settings of the explainer service (EXPLAINER_* variables, the OpenAI client's own names; no secret has a default)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from animerec_shared.settings import SERVICE_PORTS, BaseServiceSettings, loopback_url, service_config


class Settings(BaseServiceSettings):
    """Explainer settings; every field reads EXPLAINER_<FIELD> except the OpenAI ones (their vendor's names).

    The OpenAI ones are optional and the service works without them.
    """

    uses_service_token: ClassVar[bool] = False  # no mutating route; it calls only the recommender's reads

    model_config = service_config("explainer")

    port: int = SERVICE_PORTS["explainer"]
    recommender_url: str = loopback_url("recommender")

    # OpenAI or any OpenAI-compatible server; without a key every answer is the template.
    openai_api_key: SecretStr | None = Field(None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, validation_alias="OPENAI_BASE_URL")
    openai_model: str = Field("gpt-4o-mini", validation_alias="OPENAI_MODEL")

    # Checks on the LLM answer and how long to wait for it.
    llm_timeout_seconds: float = Field(5.0, gt=0, le=120)
    llm_max_chars: int = Field(600, ge=50, le=5000)
    llm_max_tokens: int = Field(220, ge=16, le=2000)
    llm_temperature: float = Field(0.4, ge=0, le=2)
    llm_max_retry_after_seconds: float = Field(1.0, ge=0, le=30)
    llm_concurrency: int = Field(8, ge=1, le=256)
    title_catalogue: bool = True
    catalogue_refresh_seconds: float = Field(600.0, ge=1)

    # Upstream, batch and cache.
    recommender_timeout_seconds: float = Field(5.0, gt=0, le=120)
    batch_concurrency: int = Field(4, ge=1, le=20)
    cache_ttl_seconds: int = Field(86_400, ge=1)

    @property
    def llm_enabled(self) -> bool:
        """Returns True when an OpenAI key is configured."""
        return bool(self.openai_api_key and self.openai_api_key.get_secret_value().strip())
