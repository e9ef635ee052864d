"""Gateway settings: upstream timeouts, admin token, rate and body limits, CORS."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from animerec_shared.settings import BaseServiceSettings

UPSTREAMS = ("ingestion", "training", "recommender", "explainer")


class Settings(BaseServiceSettings):
    """Every field reads the env var of the same name in upper case (ADMIN_TOKEN, CORS_ORIGINS, ...)."""

    environment: Literal["development", "test", "production"] = "development"
    admin_token: SecretStr | None = None

    rate_limit_per_minute: int = Field(1200, ge=0, description="token refill per client IP and minute; 0 = off")
    rate_limit_burst: int | None = Field(None, ge=1, description="bucket size; default = rate_limit_per_minute")
    trust_forwarded_for: bool = False
    gateway_max_body_bytes: int = Field(1_000_000, ge=1024)
    cors_origins: str = ""

    upstream_connect_timeout_s: float = Field(1.0, gt=0)
    upstream_read_timeout_s: float = Field(5.0, gt=0)
    upstream_get_retries: int = Field(2, ge=0, le=5)
    upstream_max_connections: int = Field(100, ge=1)
    readyz_upstreams: str = ",".join(UPSTREAMS)

    admin_poll_interval_s: float = Field(1.0, gt=0)
    admin_step_timeout_s: float = Field(6 * 3600.0, gt=0)
    admin_poll_failures_allowed: int = Field(30, ge=0)
    admin_reload_timeout_s: float = Field(300.0, gt=0, description="promotion/reload calls (loading a model)")

    @model_validator(mode="after")
    def _production_needs_a_token(self) -> Settings:
        if self.environment == "production":
            token = self.admin_token.get_secret_value() if self.admin_token else ""
            if len(token) < 16:
                raise ValueError("ENVIRONMENT=production requires ADMIN_TOKEN (at least 16 characters)")
        return self

    @property
    def cors_origin_list(self) -> list[str]:
        """Returns the allowed CORS origins (empty: CORS closed)."""
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def readyz_upstream_list(self) -> list[str]:
        """Returns the upstreams /readyz requires (the recommender must also have a model)."""
        names = [n.strip() for n in self.readyz_upstreams.split(",") if n.strip()]
        unknown = [n for n in names if n not in UPSTREAMS]
        if unknown:
            raise ValueError(f"READYZ_UPSTREAMS names unknown services: {unknown}")
        return names
