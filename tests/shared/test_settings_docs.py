"""The env vars of the settings classes: one naming rule, and the README's configuration table lists exactly them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from animerec_shared.settings import SERVICE_PORTS, UPSTREAM_URLS, BaseServiceSettings, port_of, upstream_url_env

README = Path(__file__).resolve().parents[2] / "README.md"
# Unprefixed on purpose: the common infrastructure settings and the names their vendors read.
COMMON = {"STORAGE_URL", "REDIS_URL", "LOG_LEVEL", "LOG_JSON", "HOST", "SERVICE_TOKEN"}
VENDOR = {"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "COMET_API_KEY", "COMET_PROJECT_NAME", "COMET_WORKSPACE"}


def service_settings() -> dict[str, type[BaseServiceSettings]]:
    from animerec_explainer.config import Settings as Explainer
    from animerec_gateway.config import Settings as Gateway
    from animerec_ingestion.config import Settings as Ingestion
    from animerec_recommender.config import Settings as Recommender
    from animerec_training.config import Settings as Training

    return {
        "ingestion": Ingestion,
        "training": Training,
        "recommender": Recommender,
        "explainer": Explainer,
        "gateway": Gateway,
    }


def env_names(cls: type[BaseSettings]) -> dict[str, str]:
    """Returns {env var: field name} of a settings class: its explicit alias, else env_prefix + field name."""
    prefix = cls.model_config.get("env_prefix", "")
    out = {}
    for name, field in cls.model_fields.items():
        alias = field.validation_alias
        assert alias is None or isinstance(alias, str), (cls, name, alias)
        out[(alias or f"{prefix}{name}").upper()] = name
    return out


def all_env_names() -> set[str]:
    # the base's unaliased fields (environment) are read with each service's prefix, counted below
    names = {
        env
        for env, name in env_names(BaseServiceSettings).items()
        if BaseServiceSettings.model_fields[name].validation_alias
    }
    for cls in service_settings().values():
        names |= set(env_names(cls))
    return names


@pytest.fixture(autouse=True)
def _no_settings_in_the_environment(monkeypatch):
    """Every settings variable unset: the defaults are what the tests see."""
    for name in all_env_names():
        monkeypatch.delenv(name, raising=False)


def readme_table() -> list[str]:
    """Returns the variables of the README's configuration table, in order (one backticked name per row)."""
    text = README.read_text()
    section = text.split("## Configuration (environment variables)", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    names = []
    for row in rows:
        cell = row.split("|")[1].strip()
        assert re.fullmatch(r"`[A-Z][A-Z0-9_]*`", cell), f"one variable per row: {row}"
        names.append(cell.strip("`"))
    return names


def test_readme_table_lists_exactly_the_settings_env_vars():
    listed = readme_table()
    assert len(listed) == len(set(listed)), sorted(n for n in listed if listed.count(n) > 1)
    expected = all_env_names()
    assert sorted(expected - set(listed)) == [], "settings missing from the README table"
    assert sorted(set(listed) - expected) == [], "README table rows that no settings class reads"


@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_service_variables_carry_the_prefix_and_one_unit_suffix(service):
    cls = service_settings()[service]
    assert cls.model_config["env_prefix"] == f"{service.upper()}_"
    names = env_names(cls)
    for env in names:
        assert env in COMMON | VENDOR or env.startswith(f"{service.upper()}_"), env
        assert not re.search(r"_(S|SECS|SEC|TTL|MS)$", env), f"{env}: durations end in _SECONDS"
        assert not re.search(r"_(SIZE_MB|MB|GB|KB)$", env), f"{env}: sizes end in _BYTES"
    # only its own ports (API and metrics) and only the upstream URLs it calls
    assert sorted(e for e in names if e.endswith("_PORT")) == [
        f"{service.upper()}_METRICS_PORT",
        f"{service.upper()}_PORT",
    ]
    urls = sorted(e for e in names if e.endswith("_URL") and e not in COMMON | VENDOR)
    assert urls == sorted(f"{service.upper()}_{callee.upper()}_URL" for callee in UPSTREAM_URLS.get(service, ()))
    assert cls().port == SERVICE_PORTS[service]


def test_common_settings_ignore_a_service_prefix(monkeypatch):
    from animerec_gateway.config import Settings

    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("GATEWAY_LOG_LEVEL", "ERROR")
    monkeypatch.setenv("GATEWAY_RATE_LIMIT_PER_MINUTE", "7")
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "9")  # an old name: no longer read
    settings = Settings()
    assert settings.log_level == "DEBUG" and settings.rate_limit_per_minute == 7
    with pytest.raises(ValueError, match="extra_forbidden"):
        Settings(rate_limt_per_minute=1)  # a misspelt keyword is refused, not ignored


def test_default_upstream_urls_are_loopback_on_the_default_ports(monkeypatch):
    classes = service_settings()
    monkeypatch.setenv("RECOMMENDER_PORT", "9999")  # the recommender's own port moves no caller
    for caller, callees in UPSTREAM_URLS.items():
        settings = classes[caller]()
        for callee in callees:
            assert getattr(settings, f"{callee}_url") == f"http://127.0.0.1:{SERVICE_PORTS[callee]}"
    assert port_of("recommender") == 9999 and port_of("gateway") == SERVICE_PORTS["gateway"]
    env = upstream_url_env({"recommender": "http://127.0.0.1:1234/"})
    assert env == {
        "GATEWAY_RECOMMENDER_URL": "http://127.0.0.1:1234",
        "EXPLAINER_RECOMMENDER_URL": "http://127.0.0.1:1234",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert classes["explainer"]().recommender_url == "http://127.0.0.1:1234"
    assert classes["gateway"]().url_of("recommender") == "http://127.0.0.1:1234"
