"""Settings base shared by every service: one env var per setting, laptop defaults, no secrets."""

from __future__ import annotations

from pathlib import Path

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


class BaseServiceSettings(BaseSettings):
    """Settings every service reads; services extend this class with their own fields."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    storage_url: str = default_storage_url()
    redis_url: str | None = None
    log_level: str = "INFO"
    log_json: bool = True
    host: str = "127.0.0.1"

    gateway_port: int = SERVICE_PORTS["gateway"]
    ingestion_port: int = SERVICE_PORTS["ingestion"]
    training_port: int = SERVICE_PORTS["training"]
    recommender_port: int = SERVICE_PORTS["recommender"]
    explainer_port: int = SERVICE_PORTS["explainer"]

    ingestion_url: str | None = None
    training_url: str | None = None
    recommender_url: str | None = None
    explainer_url: str | None = None

    def port_of(self, service: str) -> int:
        """Returns the configured port of a service by name."""
        return int(getattr(self, f"{service}_port"))

    def url_of(self, service: str) -> str:
        """Returns the base URL of a service: its *_URL env var or loopback on its port."""
        explicit = getattr(self, f"{service}_url")
        if explicit:
            return explicit.rstrip("/")
        return f"http://127.0.0.1:{self.port_of(service)}"
