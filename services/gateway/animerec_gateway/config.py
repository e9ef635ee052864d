"""Gateway settings (GATEWAY_*): its port, upstream URLs and timeouts, admin token, rate and body limits, CORS,
response cache."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from animerec_shared.contracts.imports import PROFILE_MAX_IDS
from animerec_shared.settings import SERVICE_PORTS, BaseServiceSettings, loopback_url, service_config

UPSTREAMS = ("ingestion", "training", "recommender", "explainer")


class Settings(BaseServiceSettings):
    """Every field reads GATEWAY_<FIELD> (GATEWAY_ADMIN_TOKEN, GATEWAY_CORS_ORIGINS, ...)."""

    model_config = service_config("gateway")

    port: int = SERVICE_PORTS["gateway"]
    ingestion_url: str = loopback_url("ingestion")
    training_url: str = loopback_url("training")
    recommender_url: str = loopback_url("recommender")
    explainer_url: str = loopback_url("explainer")

    admin_token: SecretStr | None = None

    rate_limit_per_minute: int = Field(1200, ge=0, description="token refill per client IP and minute; 0 = off")
    rate_limit_burst: int | None = Field(None, ge=1, description="bucket size; default = rate_limit_per_minute")
    costly_per_minute: int = Field(
        120, ge=0, description="refill of the costly-request bucket per client IP and minute; 0 = off"
    )
    costly_burst: int | None = Field(None, ge=1, description="costly bucket size; default = costly_per_minute")
    trust_forwarded_for: bool = False
    max_body_bytes: int = Field(1_000_000, ge=1024)
    cors_origins: str = ""
    response_cache_ttl_seconds: float = Field(2.0, ge=0, description="life of a cached public GET answer; 0 = off")
    response_cache_size: int = Field(5000, ge=1, description="answers the response cache keeps at most")
    import_max_upload_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="largest MyAnimeList export upload, gzipped or not (413 above)"
    )
    import_max_xml_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="largest export XML once gunzipped (413 above: gzip bombs)"
    )
    import_max_entries: int = Field(
        PROFILE_MAX_IDS, ge=1, le=PROFILE_MAX_IDS, description="most <anime> entries of an export (413 above)"
    )

    upstream_connect_timeout_seconds: float = Field(1.0, gt=0)
    upstream_read_timeout_seconds: float = Field(5.0, gt=0)
    upstream_get_retries: int = Field(2, ge=0, le=5)
    upstream_max_connections: int = Field(100, ge=1)
    readyz_upstreams: str = ",".join(UPSTREAMS)

    admin_step_timeout_seconds: float = Field(6 * 3600.0, gt=0)
    admin_reload_timeout_seconds: float = Field(300.0, gt=0, description="promotion/reload calls (loading a model)")

    @model_validator(mode="after")
    def _production_needs_a_token(self) -> Settings:
        if self.environment == "production":
            token = self.admin_token.get_secret_value() if self.admin_token else ""
            if len(token) < 16:
                raise ValueError("GATEWAY_ENVIRONMENT=production requires GATEWAY_ADMIN_TOKEN (at least 16 characters)")
        return self

    def url_of(self, service: str) -> str:
        """Returns the base URL of an upstream service (its GATEWAY_<SERVICE>_URL)."""
        if service not in UPSTREAMS:
            raise ValueError(f"{service!r} is not an upstream of the gateway (known: {', '.join(UPSTREAMS)})")
        return str(getattr(self, f"{service}_url")).rstrip("/")

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
            raise ValueError(f"GATEWAY_READYZ_UPSTREAMS names unknown services: {unknown}")
        return names
