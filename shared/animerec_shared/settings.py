"""Settings base shared by every service: one env var per setting, laptop defaults, no secrets.

Naming: a service's own variables carry its prefix (``env_prefix`` of its Settings class, see
:func:`service_config`: ``GATEWAY_``, ``INGESTION_``, ``TRAINING_``, ``RECOMMENDER_``, ``EXPLAINER_``)
and one unit suffix (``_SECONDS`` for durations, ``_BYTES`` for sizes). The common infrastructure
settings below and the vendors' own names (``OPENAI_API_KEY``, ``COMET_API_KEY``, ...) are unprefixed:
they name their variable with an explicit ``validation_alias``, which no prefix changes.
The README's configuration table lists every variable (tests/shared/test_settings_docs.py checks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STORAGE_DIR = REPO_ROOT / "var" / "storage"

# The five services and their default ports, in start order (upstreams first, the gateway last):
# the one service list of the repository (animerec_shared.launcher.SERVICES is its keys).
SERVICE_PORTS = {
    "ingestion": 8001,
    "training": 8002,
    "recommender": 8003,
    "explainer": 8004,
    "gateway": 8000,
}


def default_storage_url() -> str:
    """Returns the file:// URL of the repo's git-ignored var/storage folder."""
    return DEFAULT_STORAGE_DIR.as_uri()


def loopback_url(service: str) -> str:
    """Returns the default base URL of a service: loopback on its default port."""
    return f"http://127.0.0.1:{SERVICE_PORTS[service]}"


def service_config(service: str) -> SettingsConfigDict:
    """Returns the model_config of a service's Settings: its variables are <SERVICE>_<FIELD>."""
    return SettingsConfigDict(env_prefix=f"{service.upper()}_")


class BaseServiceSettings(BaseSettings):
    """Settings every service reads (unprefixed); services extend this class with their own fields."""

    # validate_by_name: Settings(storage_url=...) works as well as Settings(STORAGE_URL=...); extra="forbid"
    # refuses an unknown keyword (a misspelt or renamed setting), while unknown env vars are simply not read.
    model_config = SettingsConfigDict(
        env_file=None, extra="forbid", case_sensitive=False, validate_by_name=True, validate_by_alias=True
    )

    storage_url: str = Field(default_factory=default_storage_url, validation_alias="STORAGE_URL")
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    log_json: bool = Field(True, validation_alias="LOG_JSON")
    host: str = Field("127.0.0.1", validation_alias="HOST")
    # Shared by the gateway (it sends it) and the services whose mutating routes check it (shared/auth.py).
    service_token: SecretStr | None = Field(None, validation_alias="SERVICE_TOKEN")
    # Prefixed like the service's own settings (GATEWAY_ENVIRONMENT, INGESTION_ENVIRONMENT, ...).
    environment: Literal["development", "test", "production"] = "development"
    # Prefixed too (GATEWAY_METRICS_PORT, ...): Prometheus /metrics on its own port, not the API's (so never
    # through the public gateway); unset: no metrics server; 0: a free port (tests). See metrics_port_of.
    metrics_port: int | None = Field(None, ge=0, le=65535)

    # Whether this service's production settings need a SERVICE_TOKEN (those that check or send it).
    uses_service_token: ClassVar[bool] = True

    @model_validator(mode="after")
    def _production_needs_a_service_token(self) -> BaseServiceSettings:
        if self.environment == "production" and type(self).uses_service_token:
            token = self.service_token.get_secret_value() if self.service_token else ""
            if len(token) < 16:
                prefix = self.model_config.get("env_prefix", "")
                raise ValueError(f"{prefix}ENVIRONMENT=production requires SERVICE_TOKEN (at least 16 characters)")
        return self


class _ServicePort(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    port: int | None = Field(None, ge=1, le=65535)
    metrics_port: int | None = Field(None, ge=1, le=65535)


def port_of(service: str) -> int:
    """Returns the port a service is configured for: its <SERVICE>_PORT variable, else SERVICE_PORTS.

    <SERVICE>_PORT is the ``port`` setting of the service's own Settings; launchers (``animerec serve``,
    ``make run``) read it here without importing the service.
    """
    if service not in SERVICE_PORTS:
        raise ValueError(f"unknown service {service!r} (known: {', '.join(SERVICE_PORTS)})")
    port = _ServicePort(_env_prefix=service_config(service)["env_prefix"]).port
    return port or SERVICE_PORTS[service]


def metrics_port_of(service: str) -> int:
    """Returns the metrics port launchers give a service: its <SERVICE>_METRICS_PORT, else its port + 1000."""
    port_of(service)  # validates the name
    return _ServicePort(_env_prefix=service_config(service)["env_prefix"]).metrics_port or SERVICE_PORTS[service] + 1000


# The services whose mutating routes check the SERVICE_TOKEN (animerec_shared.auth), and those that hold it:
# them and the gateway, which sends it. The explainer calls only reads and is not given it.
SERVICE_TOKEN_CHECKERS = ("ingestion", "training", "recommender")
SERVICE_TOKEN_HOLDERS = (*SERVICE_TOKEN_CHECKERS, "gateway")


# The upstream URL settings: the services that call another one, and whom (see the gateway's and the
# explainer's Settings). Whoever starts services on other ports sets these (upstream_url_env).
UPSTREAM_URLS = {
    "gateway": ("ingestion", "training", "recommender", "explainer"),
    "explainer": ("recommender",),
}


def upstream_url_env(urls: Mapping[str, str]) -> dict[str, str]:
    """Returns the env vars that point callers at the given services: {"recommender": url} ->
    {"GATEWAY_RECOMMENDER_URL": url, "EXPLAINER_RECOMMENDER_URL": url}."""
    return {
        f"{caller.upper()}_{callee.upper()}_URL": urls[callee].rstrip("/")
        for caller, callees in UPSTREAM_URLS.items()
        for callee in callees
        if callee in urls
    }
