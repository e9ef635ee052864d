"""Small upstream services that speak the contracts of docs/architecture.md, served by real uvicorn
servers on loopback ports (in threads), plus a helper to serve the gateway the same way."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from animerec_shared.auth import ServiceToken
from animerec_shared.contracts.imports import UNKNOWN_SAMPLE, ProfileRecommendations, ProfileRecommendationsRequest
from animerec_shared.errors import AnimeNotFound, InvalidInputError, NotFoundError, UserNotFound
from animerec_shared.launcher import free_port
from animerec_shared.service import create_service_app
from animerec_shared.settings import BaseServiceSettings

CATALOGUE = {
    5114: {
        "title": "Fullmetal Alchemist: Brotherhood",
        "genres": ["Action", "Adventure", "Drama", "Fantasy"],
        "type": "TV",
        "score": 9.19,
    },
    121: {"title": "Fullmetal Alchemist", "genres": ["Action", "Adventure", "Fantasy"], "type": "TV", "score": 8.16},
    9253: {"title": "Steins;Gate", "genres": ["Sci-Fi", "Thriller"], "type": "TV", "score": 9.11},
    1535: {
        "title": "Death Note",
        "genres": ["Mystery", "Police", "Psychological", "Thriller"],
        "type": "TV",
        "score": 8.63,
    },
    16498: {"title": "Attack on Titan", "genres": ["Action", "Drama", "Fantasy"], "type": "TV", "score": 8.48},
    199: {"title": "Spirited Away", "genres": ["Adventure", "Supernatural", "Drama"], "type": "Movie", "score": 8.83},
}
# franchise id (its first entry in watch order) and size, as the recommender lists them; others: size 1
FRANCHISES = {121: (121, 2), 5114: (121, 2), 9253: (9253, 3), 16498: (16498, 4)}
FRANCHISE_OF_WATCHED = [5114]  # a known user's continue list: they rated Fullmetal Alchemist (121)
MISSING_USER = 404
SLOW_USER = 999
BROKEN_USER = 500
LONG_USER = 77  # recommendations longer than a page: LONG_LIST_SIZE anime outside the CATALOGUE, paginated
LONG_LIST_SIZE = 30


@dataclass
class World:
    """State shared by the fake services: promoted model, what they were asked, and their jobs."""

    current: str = "v1"
    versions: list[str] = field(default_factory=lambda: ["v1"])
    served: str = "v1"
    request_ids: list[str] = field(default_factory=list)
    params: list[dict[str, Any]] = field(default_factory=list)
    multi_params: list[list[tuple[str, str]]] = field(default_factory=list)  # repeated keys kept
    bodies: list[dict[str, Any]] = field(default_factory=list)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls_to_finish: int = 2
    training_bodies: list[dict[str, Any]] = field(default_factory=list)
    profile_bodies: list[dict[str, Any]] = field(default_factory=list)  # POST /profiles/recommendations

    def item(self, anime_id: int, value: float, field: str = "similarity") -> dict[str, Any]:
        """Returns a list item (field: the kind of list, "similarity" or "relevance"; both answer `relevance`)."""
        meta = CATALOGUE[anime_id]
        franchise, size = FRANCHISES.get(anime_id, (anime_id, 1))
        return {
            "anime_id": anime_id,
            **meta,
            "name": meta["title"],
            "english_title": None,
            "year": 2009,
            "episodes": None,  # unknown: the page's cards show year and type alone
            "url": f"https://myanimelist.net/anime/{anime_id}",
            "members": 1000,
            "relevance": value,
            "franchise": {"id": franchise, "size": size},
            "sources": ["franchise", "item_item"] if field == "relevance" else ["collaborative"],
        }

    def listing(self, ids: list[int], field: str = "similarity", cont: list[int] | None = None) -> dict[str, Any]:
        """Returns a list answer (one page); with cont, a recommendation answer with that `continue` list."""
        out: dict[str, Any] = {"items": [self.item(a, round(0.9 - 0.1 * i, 3), field) for i, a in enumerate(ids)]}
        if cont is not None:
            out["continue"] = [self.item(a, round(0.8 - 0.1 * i, 3), field) for i, a in enumerate(cont)]
        pagination = {"page": 1, "limit": max(len(ids), 1), "has_next": False, "total": len(ids)}
        return {**out, "pagination": pagination, "model_version": self.served, "took_ms": 0.1}

    def long_page(self, page: int, limit: int) -> dict[str, Any]:
        """Returns one page of LONG_USER's recommendations (total null until the last page, as ranked lists)."""
        start = (page - 1) * limit
        ids = list(range(30001, 30001 + LONG_LIST_SIZE))[start : start + limit]
        items = [
            {
                "anime_id": a,
                "title": f"Long list anime {a - 30000}",
                "name": f"Long list anime {a - 30000}",
                "english_title": None,
                "genres": ["Comedy"],
                "type": "TV",
                "year": 2015,
                "episodes": 12,
                "url": f"https://myanimelist.net/anime/{a}",
                "score": 7.5,
                "members": 500,
                "relevance": round(1 - (a - 30001) / LONG_LIST_SIZE, 4),
                "franchise": {"id": a, "size": 1},
                "sources": ["collaborative"],
            }
            for a in ids
        ]
        has_next = start + limit < LONG_LIST_SIZE
        pagination = {"page": page, "limit": limit, "has_next": has_next, "total": None if has_next else LONG_LIST_SIZE}
        return {"items": items, "continue": [], "pagination": pagination, "model_version": self.served, "took_ms": 0.1}

    def profile_answer(self, body: ProfileRecommendationsRequest) -> dict[str, Any]:
        """Answers POST /profiles/recommendations over the CATALOGUE as the recommender does: each id counts in
        the first of liked, disliked, seen, planned naming it; unknown ids counted; the seen ones stand in for
        no known liked one; discovery leaves out the listed anime (but planned) and the liked franchises, whose
        other entries are the continue list; relevance relative to the first discovery item."""
        every = {*body.liked, *body.disliked, *body.seen, *body.planned}
        unknown = sorted(a for a in every if a not in CATALOGUE)
        taken: set[int] = set()

        def known(ids: list[int]) -> list[int]:
            out = [a for a in dict.fromkeys(ids) if a in CATALOGUE and a not in taken]
            taken.update(out)
            return out

        liked, disliked, seen, planned = known(body.liked), known(body.disliked), known(body.seen), known(body.planned)
        liked_from = "scores"
        if not liked and seen:
            liked, seen, liked_from = seen, [], "seen"
        if not liked:
            raise InvalidInputError(
                "none of the list's liked or watched anime is in the catalogue: nothing to recommend from",
                code="import_nothing_known",
                status_code=422,
                details={"unknown": len(unknown), "unknown_ids": unknown[:UNKNOWN_SAMPLE]},
            )
        liked_franchises = {FRANCHISES.get(a, (a, 1))[0] for a in liked}
        listed = {*liked, *disliked, *seen}
        in_liked = [a for a in CATALOGUE if a not in listed and FRANCHISES.get(a, (a, 1))[0] in liked_franchises]
        found = [a for a in CATALOGUE if a not in listed and a not in in_liked][: body.limit]

        def items(ids: list[int], first: float, sources: list[str]) -> list[dict[str, Any]]:
            return [
                {**self.item(a, round(first - 0.1 * i, 3)), "sources": sources, "plan_to_watch": a in planned}
                for i, a in enumerate(ids)
            ]

        genres: dict[str, int] = {}
        for a in liked:
            for g in CATALOGUE[a]["genres"]:
                genres[g] = genres.get(g, 0) + 1
        total = sum(genres.values())
        ranked_genres = sorted(genres.items(), key=lambda gc: -gc[1])
        discovery = items(found, 1.0, ["content", "popularity"])
        cont = items(in_liked[: body.limit], 0.8, ["franchise"])
        return {
            "items": discovery,
            "continue": cont,
            "plan_to_watch_ids": [it["anime_id"] for it in discovery + cont if it["plan_to_watch"]],
            "preferences": {
                "genres": [{"genre": g, "weight": round(c / total, 4), "count": c} for g, c in ranked_genres]
            },
            "match": {
                "matched": len(every) - len(unknown),
                "unknown": len(unknown),
                "unknown_ids": unknown[:UNKNOWN_SAMPLE],
                "liked_from": liked_from,
            },
            "strategy": "hybrid",
            "model_version": self.served,
            "took_ms": 0.1,
        }


def _record(world: World, request: Request) -> None:
    world.request_ids.append(request.headers.get("x-request-id", ""))
    world.params.append(dict(request.query_params.multi_items()))
    world.multi_params.append(request.query_params.multi_items())


# Checked by the fakes' mutating routes as by the real services (animerec_shared.auth); the Stack's gateway sends it.
SERVICE_TOKEN = "test-service-token-0123456789"


def _settings() -> BaseServiceSettings:
    return BaseServiceSettings(log_level="WARNING", service_token=SERVICE_TOKEN)


def _app(name: str) -> FastAPI:
    return create_service_app(name, _settings(), title=f"fake {name}")


def fake_recommender(world: World) -> FastAPI:
    """Returns a recommender speaking the contract over the small CATALOGUE."""

    async def ready() -> tuple[bool, dict[str, Any]]:
        return True, {"model_version": world.served}

    app = create_service_app("recommender", _settings(), title="fake recommender", ready_check=ready)

    @app.get("/anime")
    async def search(request: Request, q: str = "", limit: int = 20) -> dict[str, Any]:
        _record(world, request)
        ids = [a for a, m in CATALOGUE.items() if q.lower() in m["title"].lower()][:limit]
        return world.listing(ids)

    @app.get("/anime/{anime_id}")
    async def lookup(request: Request, anime_id: int) -> dict[str, Any]:
        _record(world, request)
        if anime_id not in CATALOGUE:
            raise AnimeNotFound(f"anime {anime_id} is not in the catalogue")
        return {"anime_id": anime_id, **CATALOGUE[anime_id], "synopsis": "A story."}

    @app.get("/anime/{anime_id}/similar")
    async def similar(request: Request, anime_id: int, limit: int = 10) -> dict[str, Any]:
        _record(world, request)
        if anime_id not in CATALOGUE:
            raise AnimeNotFound(f"anime {anime_id} is not in the catalogue")
        return world.listing([a for a in CATALOGUE if a != anime_id][:limit])

    @app.get("/anime/{anime_id}/franchise")
    async def franchise(request: Request, anime_id: int) -> dict[str, Any]:
        _record(world, request)
        if anime_id not in CATALOGUE:
            raise AnimeNotFound(f"anime {anime_id} is not in the catalogue")
        franchise_id = FRANCHISES.get(anime_id, (anime_id, 1))[0]
        others = [a for a in CATALOGUE if a != anime_id and FRANCHISES.get(a, (a, 1))[0] == franchise_id]
        items = [
            {
                "anime_id": a,
                "title": CATALOGUE[a]["title"],
                "type": CATALOGUE[a]["type"],
                "year": 2003,
                "episodes": 51.0,
                "aired_from": "2003-10-04",
                "evidence": {
                    "relation": "same_franchise",
                    "rules": ["title_prefix"],
                    "base": "fullmetal alchemist",
                    "path": [anime_id, a],
                },
            }
            for a in others
        ]
        return {
            "anime_id": anime_id,
            "title": CATALOGUE[anime_id]["title"],
            "franchise_id": franchise_id,
            "items": items,
            "model_version": world.served,
            "took_ms": 0.1,
        }

    @app.get("/users/{user_id}/recommendations")
    async def recommendations(request: Request, user_id: int, limit: int = 10, page: int = 1) -> dict[str, Any]:
        _record(world, request)
        if user_id == MISSING_USER:
            raise UserNotFound(f"user {user_id} is unknown; use POST /recommendations for cold start")
        if user_id == LONG_USER:
            return world.long_page(page, limit)
        mixed = request.query_params.get("mix_franchises") == "true"
        return world.listing([9253, 1535, 199][:limit], "relevance", [] if mixed else FRANCHISE_OF_WATCHED[:limit])

    @app.get("/users/{user_id}/continue")
    async def continue_watching(request: Request, user_id: int, limit: int = 10) -> dict[str, Any]:
        _record(world, request)
        if user_id == MISSING_USER:
            raise UserNotFound(f"user {user_id} is unknown")
        return world.listing(FRANCHISE_OF_WATCHED[:limit], "relevance")

    @app.get("/users/{user_id}/similar")
    async def similar_users(request: Request, user_id: int, limit: int = 10) -> Any:
        _record(world, request)
        if user_id == SLOW_USER:
            await asyncio.sleep(3)
        if user_id == BROKEN_USER:  # a proxy or crash page outside the error schema
            return PlainTextResponse("<html>Internal Server Error</html>", status_code=500)
        return {"items": [{"user_id": user_id + 1, "similarity": 0.8}], "model_version": world.served}

    @app.get("/users/{user_id}/preferences")
    async def preferences(request: Request, user_id: int) -> Any:
        _record(world, request)
        if user_id == SLOW_USER:
            await asyncio.sleep(3)
        if user_id == BROKEN_USER:  # a proxy or crash page outside the error schema
            return PlainTextResponse("<html>Internal Server Error</html>", status_code=500)
        return {
            "user_id": user_id,
            "genres": [
                {"genre": "Action", "weight": 0.5},
                {"genre": "Drama", "weight": 0.3},
                {"genre": "Sci-Fi", "weight": 0.2},
            ],
            "favourites": [world.item(5114, 1.0)],
            "model_version": world.served,
        }

    @app.post("/recommendations")
    async def cold_start(request: Request) -> dict[str, Any]:
        _record(world, request)
        body = await request.json()
        world.bodies.append(body)
        liked_franchises = {FRANCHISES.get(a, (a, 1))[0] for a in body["liked"]}
        cont = (
            []
            if body.get("mix_franchises")
            else [a for a in CATALOGUE if a not in body["liked"] and FRANCHISES.get(a, (a, 1))[0] in liked_franchises]
        )
        return world.listing(
            [a for a in CATALOGUE if a not in body["liked"]][: body.get("limit", 10)], "relevance", cont
        )

    # The contract's models on both sides (as the real route: the body validated, 422 otherwise; the answer
    # its response model, unset fields left out): the fake cannot drift from contracts.imports.
    @app.post("/profiles/recommendations", response_model=ProfileRecommendations, response_model_exclude_unset=True)
    async def profile_recommendations(request: Request, body: ProfileRecommendationsRequest) -> dict[str, Any]:
        _record(world, request)
        world.profile_bodies.append(body.model_dump(exclude_unset=True))
        return ProfileRecommendations.model_validate(world.profile_answer(body)).model_dump(
            by_alias=True, exclude_unset=True
        )

    @app.post("/admin/reload", dependencies=[ServiceToken])
    async def reload(request: Request) -> dict[str, Any]:
        _record(world, request)
        body = await request.json() if await request.body() else {}
        previous, world.served = world.served, (body or {}).get("version") or world.current
        return {"model_version": world.served, "previous": previous}

    return app


def fake_explainer(world: World) -> FastAPI:
    """Returns an explainer that answers from the catalogue with the template source."""
    app = _app("explainer")

    def one(anime_id: int) -> dict[str, Any]:
        if anime_id not in CATALOGUE:
            raise AnimeNotFound(f"anime {anime_id} is not in the catalogue")
        title = CATALOGUE[anime_id]["title"]
        return {
            "anime_id": anime_id,
            "title": title,
            "source": "template",
            "model_version": world.served,
            "facts": [{"kind": "shared_genres", "text": "It shares Action with your favourites.", "data": {}}],
            "text": f"{title} shares Action with Fullmetal Alchemist: Brotherhood, which you rated highly.",
        }

    @app.post("/explanations")
    async def explain(request: Request) -> dict[str, Any]:
        _record(world, request)
        body = await request.json()
        world.bodies.append(body)
        return one(int(body["anime_id"]))

    @app.post("/explanations/batch")
    async def batch(request: Request) -> dict[str, Any]:
        _record(world, request)
        body = await request.json()
        return {"items": [one(a) for a in body["anime_ids"]], "model_version": world.served, "took_ms": 1.0}

    return app


def _job(world: World, kind: str, result: dict[str, Any], fail: dict[str, Any] | None = None) -> JSONResponse:
    job_id = f"{kind}-{len(world.jobs) + 1}"
    world.jobs[job_id] = {"id": job_id, "state": "queued", "polls": 0, "result": result, "fail": fail}
    return JSONResponse({"id": job_id, "state": "queued"}, status_code=202)


def _poll(world: World, job_id: str) -> dict[str, Any]:
    job = world.jobs.get(job_id)
    if job is None:
        raise NotFoundError(f"no job {job_id}")
    job["polls"] += 1
    if job["polls"] < world.polls_to_finish:
        return {"id": job_id, "state": "running", "progress": 0.5, "error": None}
    if job["fail"]:
        return {"id": job_id, "state": "failed", "error": job["fail"]}
    return {"id": job_id, "state": "succeeded", "error": None, **job["result"]}


def fake_ingestion(world: World) -> FastAPI:
    """Returns an ingestion service whose jobs finish after a few polls."""
    app = _app("ingestion")

    @app.post("/ingestions", dependencies=[ServiceToken])
    async def ingest(request: Request) -> JSONResponse:
        world.bodies.append(await request.json())
        return _job(world, "ing", {"dataset_id": "raw-2", "manifest": {}})

    @app.get("/ingestions/{job_id}")
    async def ingestion(job_id: str) -> dict[str, Any]:
        return _poll(world, job_id)

    @app.post("/processing-runs", dependencies=[ServiceToken])
    async def process(request: Request) -> JSONResponse:
        world.bodies.append(await request.json())
        return _job(world, "proc", {"processed_id": "proc-2", "manifest": {}})

    @app.get("/processing-runs/{job_id}")
    async def processing(job_id: str) -> dict[str, Any]:
        return _poll(world, job_id)

    return app


def fake_training(world: World) -> FastAPI:
    """Returns a training service that makes a new version and promotes it when asked to."""
    app = _app("training")

    @app.post("/training-runs", dependencies=[ServiceToken])
    async def train(request: Request) -> JSONResponse:
        body = await request.json()
        world.training_bodies.append(body)
        version = f"v{len(world.versions) + 1}"
        fail = {"code": "training_failed", "message": "loss is NaN"} if body.get("epochs") == 13 else None
        if not fail:
            world.versions.append(version)
            if body.get("promote") in ("if_better", "always"):
                world.current = version
        return _job(
            world,
            "train",
            {
                "version": version,
                "promoted": body.get("promote") != "never",
                "metrics": {"ndcg@10": 0.41},
                "epoch": 2,
                "epochs": 2,
                "progress": 1.0,
            },
            fail,
        )

    @app.get("/training-runs/{job_id}")
    async def training(job_id: str) -> dict[str, Any]:
        return _poll(world, job_id)

    @app.get("/models")
    async def models(request: Request) -> dict[str, Any]:
        _record(world, request)
        return {
            "current": world.current,
            "models": [
                {"version": v, "metrics": {}, "created_at": "2026-11-27", "current": v == world.current}
                for v in world.versions
            ],
        }

    @app.post("/models/{version}/promote", dependencies=[ServiceToken])
    async def promote(version: str) -> dict[str, Any]:
        if version not in world.versions:
            raise NotFoundError(f"no model version {version}", code="model_not_found")
        world.current = version
        return {"current": version}

    return app


class ServedApp:
    """Serves an ASGI app with uvicorn on a loopback port in a background thread."""

    def __init__(self, app: Any, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                access_log=False,
                lifespan="on",
                proxy_headers=False,  # as the launcher and the images: the client is the peer
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> ServedApp:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


FAKES = {
    "ingestion": fake_ingestion,
    "training": fake_training,
    "recommender": fake_recommender,
    "explainer": fake_explainer,
}
ADMIN_TOKEN = "test-admin-token-0123456789"


class Stack:
    """The four fake upstreams (minus those listed as down) and a gateway in front of them."""

    def __init__(self, *, down: tuple[str, ...] = (), **settings: Any):
        from animerec_gateway.app import create_app
        from animerec_gateway.config import Settings

        self.world = World()
        self.upstreams: dict[str, ServedApp] = {}
        urls: dict[str, str] = {}
        for name, make in FAKES.items():
            port = free_port()
            urls[f"{name}_url"] = f"http://127.0.0.1:{port}"
            if name not in down:
                self.upstreams[name] = ServedApp(make(self.world), port).start()
        base = {
            "admin_token": ADMIN_TOKEN,
            "service_token": SERVICE_TOKEN,
            "environment": "test",
            "log_level": "WARNING",
            "rate_limit_per_minute": 100_000,
            "metrics_port": 0,  # a free port: app.state.metrics_url
        }
        self.settings = Settings(**{**base, **urls, **settings})
        self.app = create_app(self.settings, admin_poll_interval_seconds=0.05)
        self.gateway = ServedApp(self.app, free_port()).start()
        self.url = self.gateway.url

    def metrics(self) -> str:
        """Returns the gateway's Prometheus text, from its own metrics port."""
        return httpx.get(self.app.state.metrics_url, timeout=10).text

    def stop(self) -> None:
        self.gateway.stop()
        for served in self.upstreams.values():
            served.stop()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
