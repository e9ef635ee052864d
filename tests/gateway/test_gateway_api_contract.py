"""The public list API as frontends see it: the gateway's OpenAPI, and pages and validation through the gateway
in front of the real recommender (planted world).

OpenAPI: every answer property of the public anime, user and recommendation routes is described, every
operation has an example answer, errors are the one error schema, the probes document 200 (/readyz: 503)
only, and the enumerations (genre, type, sources) are the contract's. The same three rules hold for every
operation of every service's OpenAPI (the gateway's public one and ingestion, training, recommender and
explainer behind it): each success answer's properties described (through refs), an example that
validates against the answer schema, every 4xx/5xx the ErrorBody (the probes' /readyz 503 excepted).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gateway_fakes import Stack

from animerec_shared.contracts.common import ANIME_TYPES, MAL_GENRES
from animerec_shared.contracts.recommender import Source

# (path, method) of the public routes this contract covers
LIST_OPERATIONS = [
    ("/api/v1/anime", "get"),
    ("/api/v1/anime/{anime_id}/similar", "get"),
    ("/api/v1/users/{user_id}/recommendations", "get"),
    ("/api/v1/users/{user_id}/continue", "get"),
    ("/api/v1/users/{user_id}/preferences", "get"),
    ("/api/v1/recommendations", "post"),
]
OPERATIONS = [*LIST_OPERATIONS, ("/api/v1/anime/{anime_id}", "get"), ("/api/v1/anime/{anime_id}/franchise", "get")]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    from animerec_gateway.app import create_app
    from animerec_gateway.config import Settings

    return create_app(Settings(admin_token="x" * 32, environment="test", log_level="WARNING")).openapi()


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _undescribed(spec: dict, schema: dict, where: str, seen: set[str]) -> list[str]:
    """Returns the properties without a description reachable from schema (through refs, items, anyOf)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _undescribed(spec, _resolve(spec, schema), name, seen)
    out = []
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            out += _undescribed(spec, sub, where, seen)
    if "items" in schema:
        out += _undescribed(spec, schema["items"], where, seen)
    if isinstance(schema.get("additionalProperties"), dict):
        out += _undescribed(spec, schema["additionalProperties"], where, seen)
    for prop, sub in schema.get("properties", {}).items():
        if not sub.get("description"):
            out.append(f"{where}.{prop}")
        out += _undescribed(spec, sub, f"{where}.{prop}", seen)
    return out


def _answer_schema(spec: dict, path: str, method: str, status: str = "200") -> dict:
    return spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_every_answer_property_is_described_and_each_operation_has_an_example(spec, path, method):
    answer = _answer_schema(spec, path, method)
    assert _undescribed(spec, answer, path, set()) == []
    examples = _resolve(spec, answer).get("examples")
    assert examples and isinstance(examples[0], dict), path
    # the example holds the answer's required fields
    required = set(_resolve(spec, answer).get("required", []))
    assert required <= set(examples[0]), (path, required - set(examples[0]))
    # errors: the one error schema, itself described with an example
    for status in ("422", "503"):
        assert _answer_schema(spec, path, method, status) == {"$ref": "#/components/schemas/ErrorBody"}, status
    assert _undescribed(spec, {"$ref": "#/components/schemas/ErrorBody"}, "ErrorBody", set()) == []
    assert spec["components"]["schemas"]["ErrorBody"]["examples"][0]["error"]["code"] == "validation_error"


@pytest.mark.parametrize(("path", "method"), LIST_OPERATIONS)
def test_list_operations_take_page_and_limit_and_answer_pagination(spec, path, method):
    op = spec["paths"][path][method]
    if method == "get":
        params = {p["name"]: p for p in op["parameters"] if p["in"] == "query"}
    else:
        body = _resolve(spec, op["requestBody"]["content"]["application/json"]["schema"])
        params = {k: {"schema": v, **v} for k, v in body["properties"].items()}
    assert params["page"]["schema"]["minimum"] == 1
    assert params["limit"]["schema"]["maximum"] == 100
    assert params["n"].get("deprecated") is True  # the old name, for one release
    assert "page * limit <= 500" in op["description"] and "deprecated" in op["description"]
    answer = _resolve(spec, _answer_schema(spec, path, method))
    assert "pagination" in answer["required"]
    if "genre" in params:
        assert params["genre"]["schema"]["items"]["enum"] == list(MAL_GENRES)
        assert params["exclude_genre"]["schema"]["items"]["enum"] == list(MAL_GENRES)
        assert params["type"]["schema"]["items"]["enum"] == list(ANIME_TYPES)


def test_items_document_one_relevance_url_episodes_and_the_sources_enum(spec):
    item = spec["components"]["schemas"]["AnimeItem"]
    props = item["properties"]
    assert "similarity" not in props
    assert {"relevance", "url", "episodes", "year"} <= set(props)
    assert "[0, 1]" in props["relevance"]["description"] and "Similar anime" in props["relevance"]["description"]
    assert props["sources"]["items"]["enum"] == list(Source.__args__)
    assert {"title", "members", "ratings"} <= set(props["sources"]["items"]["enum"])


def test_probes_document_200_and_503_only(spec):
    assert set(spec["paths"]["/healthz"]["get"]["responses"]) == {"200"}
    assert set(spec["paths"]["/readyz"]["get"]["responses"]) == {"200", "503"}
    for path in ("/healthz", "/readyz"):
        answer = _answer_schema(spec, path, "get")
        assert _undescribed(spec, answer, path, set()) == []
        assert _resolve(spec, answer)["examples"]
    ready = _resolve(spec, _answer_schema(spec, "/readyz", "get", "503"))
    assert ready["properties"]["status"]["enum"] == ["ready", "not_ready"]


def _service_specs(tmp: Any) -> dict[str, dict[str, Any]]:
    """Returns the OpenAPI of each service's app (built, not started) by service name."""
    from animerec_explainer.app import create_app as explainer_app
    from animerec_explainer.config import Settings as ExplainerSettings
    from animerec_gateway.app import create_app as gateway_app
    from animerec_gateway.config import Settings as GatewaySettings
    from animerec_ingestion.app import create_app as ingestion_app
    from animerec_ingestion.config import Settings as IngestionSettings
    from animerec_recommender.app import create_app as recommender_app
    from animerec_recommender.config import Settings as RecommenderSettings
    from animerec_training.app import create_app as training_app
    from animerec_training.config import Settings as TrainingSettings

    storage = (tmp / "storage").as_uri()
    return {
        "gateway": gateway_app(
            GatewaySettings(admin_token="x" * 32, environment="test", log_level="WARNING")
        ).openapi(),
        "ingestion": ingestion_app(IngestionSettings(storage_url=storage)).openapi(),
        "training": training_app(TrainingSettings(storage_url=storage, runs_dir=str(tmp / "runs"))).openapi(),
        "recommender": recommender_app(RecommenderSettings(storage_url=storage)).openapi(),
        "explainer": explainer_app(ExplainerSettings()).openapi(),
    }


@pytest.fixture(scope="module")
def service_specs(tmp_path_factory) -> dict[str, dict[str, Any]]:
    return _service_specs(tmp_path_factory.mktemp("openapi"))


def _examples(spec: dict, media: dict) -> list[Any]:
    """Returns the examples of an answer: the media type's example(s), else its schema's examples."""
    if "example" in media:
        return [media["example"]]
    if media.get("examples"):
        return [e.get("value") for e in media["examples"].values()]
    return list(_resolve(spec, media.get("schema", {})).get("examples") or [])


def _a_dropped_null(spec: dict, error: Any) -> bool:
    """Whether a validation error is only a nullable required field missing: FastAPI leaves every null out of
    the OpenAPI it writes, examples included (an example's `"total": null` is published without `total`)."""
    if error.validator != "required":
        return False
    missing = [p for p in error.validator_value if p not in error.instance]
    props = error.schema.get("properties", {})
    return all(
        p in props and any(_resolve(spec, s).get("type") == "null" for s in props[p].get("anyOf", [])) for p in missing
    )


def _operation_problems(spec: dict, path: str, method: str, op: dict) -> list[str]:
    """Returns what breaks the three rules in one operation (empty: none)."""
    import jsonschema

    where = f"{method.upper()} {path}"
    problems = []
    answers = {status: r for status, r in op["responses"].items() if status.startswith("2")}
    if not answers:
        problems.append(f"{where}: no success answer documented")
    for status, answer in answers.items():
        if status == "204":
            continue
        media = answer.get("content", {}).get("application/json")
        if media is None:
            problems.append(f"{where} {status}: no JSON answer documented")
            continue
        schema = media.get("schema", {})
        problems += [f"{where} {status}: undescribed {p}" for p in _undescribed(spec, schema, "answer", set())]
        examples = _examples(spec, media)
        if not examples:
            problems.append(f"{where} {status}: no example")
        validator = jsonschema.Draft202012Validator({**schema, "components": spec.get("components", {})})
        for example in examples:
            for exc in validator.iter_errors(example):
                if not _a_dropped_null(spec, exc):
                    problems.append(
                        f"{where} {status}: the example breaks the schema at {exc.json_path}: {exc.message}"
                    )
    for status, answer in op["responses"].items():
        if not status.startswith(("4", "5")) or (path == "/readyz" and status == "503"):
            continue
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        if schema != {"$ref": "#/components/schemas/ErrorBody"}:
            problems.append(f"{where} {status}: not the ErrorBody ({schema})")
    return problems


@pytest.mark.parametrize("service", ["gateway", "ingestion", "training", "recommender", "explainer"])
def test_every_operation_of_every_service_is_described_with_an_example_and_one_error_schema(service_specs, service):
    spec = service_specs[service]
    operations = [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()]
    assert len(operations) >= 4, operations
    problems = [p for path, method, op in operations for p in _operation_problems(spec, path, method, op)]
    assert problems == [], "\n".join(problems)
    if "ErrorBody" in spec["components"]["schemas"]:
        assert _undescribed(spec, {"$ref": "#/components/schemas/ErrorBody"}, "ErrorBody", set()) == []
    # the probes: /healthz 200 only, /readyz 200 and its 503 not-ready answer
    assert set(spec["paths"]["/healthz"]["get"]["responses"]) == {"200"}
    assert set(spec["paths"]["/readyz"]["get"]["responses"]) == {"200", "503"}


def test_the_contract_rules_cover_the_admin_explanation_model_and_import_routes(service_specs):
    paths = set(service_specs["gateway"]["paths"])
    assert {
        "/api/v1/explanations",
        "/api/v1/explanations/batch",
        "/api/v1/models",
        "/api/v1/admin/training-runs",
        "/api/v1/admin/training-runs/{run_id}",
        "/api/v1/admin/models/{version}/promote",
        "/api/v1/imports/myanimelist",
    } <= paths
    assert "/profiles/recommendations" in service_specs["recommender"]["paths"]


@pytest.fixture(scope="module")
def gateway_on_recommender(tmp_path_factory):
    """The gateway in front of the real recommender serving the planted world (in-process caches only)."""
    from animerec_recommender.app import create_app
    from animerec_shared.storage import FileStorage
    from tests.recommender.recommender_fixtures import publish_planted
    from tests.recommender.recommender_live import LiveServer, make_settings

    storage = FileStorage(tmp_path_factory.mktemp("contract") / "storage")
    publish_planted(storage, version="v-contract-1")
    with LiveServer(create_app(make_settings(storage.root, None))) as recommender:
        recommender.wait_ready()
        with Stack(recommender_url=recommender.url) as stack:
            yield stack


PAGED = [
    ("GET", "/api/v1/anime", {"q": "planted"}),
    ("GET", "/api/v1/anime/5/similar", {"method": "content"}),
    ("GET", "/api/v1/users/3/recommendations", {"strategy": "popularity"}),
    ("GET", "/api/v1/users/3/recommendations", {"max_per_franchise": 0}),
    ("POST", "/api/v1/recommendations", {"liked": [5, 6], "disliked": [45]}),
    ("GET", "/api/v1/users/5/preferences", {}),
]


def _call(url: str, method: str, path: str, args: dict, **page) -> httpx.Response:
    if method == "POST":
        return httpx.post(url + path, json={**args, **page}, timeout=30)
    return httpx.get(url + path, params={**args, **page}, timeout=30)


def _items(body: dict) -> list[int]:
    return [i["anime_id"] for i in body.get("favourites", body.get("items", []))]


@pytest.mark.parametrize(("method", "path", "args"), PAGED)
def test_pages_through_the_gateway_are_stable_and_complete(gateway_on_recommender, method, path, args):
    url = gateway_on_recommender.url
    whole = _call(url, method, path, args, limit=12)
    assert whole.status_code == 200, whole.text
    expected = _items(whole.json())
    assert len(expected) >= 8, expected
    pages = []
    for page in (1, 2, 3, 4):
        r = _call(url, method, path, args, page=page, limit=3)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["pagination"]["page"] == page and body["pagination"]["limit"] == 3
        pages.append(body)
    got = [a for b in pages for a in _items(b)]
    assert got == expected and len(set(got)) == len(got)
    assert all(b["pagination"]["has_next"] for b in pages[: len(expected) // 3 - 1])
    for b in pages:
        for it in b.get("favourites", b.get("items", [])):
            assert it["url"] == f"https://myanimelist.net/anime/{it['anime_id']}" and "similarity" not in it
            assert it["episodes"] == 12 and isinstance(it["year"], int) and "relevance" in it


@pytest.mark.parametrize(
    ("method", "path", "args", "says"),
    [
        ("GET", "/api/v1/anime", {"genre": "Isekai"}, "allowed: Action, Adventure"),
        ("GET", "/api/v1/anime/5/similar", {"type": "Series"}, "allowed: TV, Movie, OVA, ONA, Special, Music"),
        ("GET", "/api/v1/users/3/recommendations", {"limt": 5}, "Extra inputs are not permitted"),
        ("GET", "/api/v1/users/3/continue", {"n": 3, "limit": 4}, "deprecated name of limit"),
        ("POST", "/api/v1/recommendations", {"liked": [5, 6], "disliked": [5]}, "both liked and disliked"),
        ("POST", "/api/v1/recommendations", {"liked": [5], "page": 6, "limit": 100}, "must not exceed 500"),
    ],
)
def test_validation_through_the_gateway_is_the_error_envelope(gateway_on_recommender, method, path, args, says):
    r = _call(gateway_on_recommender.url, method, path, args)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_error" and isinstance(err["message"], str)
    assert any(says in d["msg"] for d in err["details"]), err["details"]


def test_the_deprecated_n_still_works_through_the_gateway(gateway_on_recommender):
    url = gateway_on_recommender.url
    by_n = _call(url, "GET", "/api/v1/users/3/recommendations", {}, n=4).json()
    by_limit = _call(url, "GET", "/api/v1/users/3/recommendations", {}, limit=4).json()
    assert _items(by_n) == _items(by_limit) and len(_items(by_n)) == 4 and by_n["pagination"]["limit"] == 4
