"""Test servers of the explainer tests: a fake OpenAI and a fake recommender, on real loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from animerec_shared.launcher import free_port

FMA = {
    "anime_id": 5114,
    "title": "Fullmetal Alchemist: Brotherhood",
    "genres": ["Action", "Adventure", "Drama", "Fantasy"],
    "score": 9.19,
    "members": 2248456,
    "popularity_rank": 3,
    "strategy": "hybrid",
    "because_you_liked": [
        {"anime_id": 9253, "title": "Steins;Gate", "similarity": 0.81, "by": "embedding"},
        {"anime_id": 1575, "title": "Code Geass: Hangyaku no Lelouch", "similarity": 0.74, "by": "embedding"},
        {"anime_id": 16498, "title": "Shingeki no Kyojin", "similarity": 0.62, "by": "content"},
    ],
    "shared_genres": ["Action", "Drama"],
    "similar_users": {"liked_it": 37, "of": 50},
}
# FMA in the facts contract with evidence: a verified franchise relation, shared users, shared genres
FMA_V2 = {
    **FMA,
    "rated": 180,
    "franchise": {"same_franchise_as": [121]},
    "because_you_liked": [
        {
            "anime_id": 121,
            "title": "Fullmetal Alchemist",
            "similarity": 0.79,
            "by": "franchise",
            "evidence": {
                "relation": "same_franchise",
                "rules": ["title_base", "japanese_base"],
                "base": "fullmetal alchemist",
                "path": [121, 5114],
            },
        },
        {
            "anime_id": 9253,
            "title": "Steins;Gate",
            "similarity": 0.81,
            "by": "embedding",
            "evidence": {"shared_users": 412},
        },
        {
            "anime_id": 1575,
            "title": "Code Geass: Hangyaku no Lelouch",
            "similarity": 0.74,
            "by": "embedding",
            "evidence": {"shared_users": 388},
        },
        {
            "anime_id": 16498,
            "title": "Shingeki no Kyojin",
            "similarity": 0.62,
            "by": "content",
            "evidence": {"shared_genres": ["Action", "Drama"]},
        },
    ],
}
# Death Parade tagged "franchise" with Death Note because the titles share a word (no evidence: not true)
DEATH_PARADE = {
    "anime_id": 28223,
    "title": "Death Parade",
    "genres": ["Game", "Mystery", "Psychological", "Drama"],
    "score": 8.19,
    "members": 1014243,
    "popularity_rank": 112,
    "strategy": "hybrid",
    "because_you_liked": [
        {"anime_id": 1535, "title": "Death Note", "similarity": 0.5, "by": "franchise"},
        {"anime_id": 19, "title": "Monster", "similarity": 0.41, "by": "content"},
    ],
    "shared_genres": ["Mystery", "Psychological"],
    "similar_users": {"liked_it": 12, "of": 50},
}
CATALOGUE = [
    {
        "anime_id": 5114,
        "name": "Fullmetal Alchemist: Brotherhood",
        "english_name": "Fullmetal Alchemist: Brotherhood",
        "japanese_name": "鋼の錬金術師 FULLMETAL ALCHEMIST",
        "genres": ["Action", "Drama"],
    },
    {
        "anime_id": 121,
        "name": "Fullmetal Alchemist",
        "english_name": "Fullmetal Alchemist",
        "japanese_name": "鋼の錬金術師",
        "genres": ["Action"],
    },
    {
        "anime_id": 9253,
        "name": "Steins;Gate",
        "english_name": "Steins;Gate",
        "japanese_name": "STEINS;GATE",
        "genres": ["Sci-Fi", "Thriller"],
    },
    {
        "anime_id": 1575,
        "name": "Code Geass: Hangyaku no Lelouch",
        "english_name": "Code Geass: Lelouch of the Rebellion",
        "japanese_name": "コードギアス 反逆のルルーシュ",
        "genres": ["Mecha"],
    },
    {
        "anime_id": 16498,
        "name": "Shingeki no Kyojin",
        "english_name": "Attack on Titan",
        "japanese_name": "進撃の巨人",
        "genres": ["Action"],
    },
    {"anime_id": 20, "name": "Naruto", "english_name": "Naruto", "japanese_name": "ナルト", "genres": ["Action"]},
    {
        "anime_id": 1535,
        "name": "Death Note",
        "english_name": "Death Note",
        "japanese_name": "デスノート",
        "genres": ["Mystery"],
    },
    {"anime_id": 19, "name": "Monster", "english_name": "Monster", "japanese_name": "モンスター", "genres": ["Drama"]},
    {
        "anime_id": 11111,
        "name": "Another",
        "english_name": "Another",
        "japanese_name": "アナザー",
        "genres": ["Horror"],
    },
]


@contextlib.contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Runs an ASGI app with uvicorn in a thread on a free loopback port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class FakeOpenAI:
    """An OpenAI chat-completions server whose answers each test scripts; it records every request."""

    def __init__(self) -> None:
        self.script: list[dict[str, Any]] = []
        self.default: dict[str, Any] = {"content": "A fine pick."}
        self.requests: list[dict[str, Any]] = []
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._complete)

    def answer(self, content: str | None = None, **behaviour: Any) -> None:
        """Queues one behaviour: content, delay (s), status (+ headers, error body), finish_reason."""
        self.script.append({"content": content, **behaviour})

    async def _complete(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append({"body": body, "headers": dict(request.headers)})
        step = self.script.pop(0) if self.script else self.default
        if step.get("delay"):
            await asyncio.sleep(step["delay"])
        if step.get("status"):
            return JSONResponse(
                {"error": {"message": "scripted failure", "type": "server_error", "code": None}},
                status_code=step["status"],
                headers=step.get("headers"),
            )
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": step.get("finish_reason", "stop"),
                        "message": {"role": "assistant", "content": step.get("content")},
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }
        )


class FakeRecommender:
    """A recommender that speaks the /explanation-facts contract from a dict of facts."""

    def __init__(self, facts: dict[int, dict[str, Any]], users: set[int], version: str = "v-test"):
        self.facts, self.users, self.version = facts, users, version
        self.synopses: dict[int, str] = {}
        self.delay = 0.0
        self.requests: list[dict[str, Any]] = []
        self.in_flight = self.max_in_flight = 0
        self.app = FastAPI()
        self.app.post("/explanation-facts")(self._facts)
        self.app.get("/anime/{anime_id}")(self._anime)
        self.app.get("/readyz")(lambda: {"status": "ready"})

    async def _facts(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append({"body": body, "headers": dict(request.headers)})
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        if body.get("user_id") is not None and body["user_id"] not in self.users:
            return JSONResponse(
                {"error": {"code": "user_not_found", "message": "no such user; use cold start"}}, status_code=404
            )
        if body["anime_id"] not in self.facts:
            return JSONResponse({"error": {"code": "anime_not_found", "message": "no such anime"}}, status_code=404)
        strategy = body.get("strategy") or "hybrid"
        facts = {**self.facts[body["anime_id"]], "model_version": self.version, "strategy": strategy}
        # The contract's fields the older fact sets lack, at values that say nothing more
        # (no franchise list, no evidence; the ratings count says whether the subject rated anything).
        facts.setdefault("rated", 0 if body.get("liked") else 100)
        facts.setdefault("franchise", {})
        facts["because_you_liked"] = [{"evidence": {}, **b} for b in facts["because_you_liked"]]
        return JSONResponse(facts)

    async def _anime(self, anime_id: int) -> JSONResponse:
        if anime_id not in self.facts:
            return JSONResponse({"error": {"code": "anime_not_found", "message": "no such anime"}}, status_code=404)
        return JSONResponse(
            {"anime_id": anime_id, "title": self.facts[anime_id]["title"], "synopsis": self.synopses.get(anime_id, "")}
        )


def more_facts() -> dict[int, dict[str, Any]]:
    """Returns facts for FMA:B and a few more anime (ids 30001..30012) for batches."""
    out = {5114: copy.deepcopy(FMA)}
    for i in range(1, 13):
        out[30000 + i] = {
            **FMA,
            "anime_id": 30000 + i,
            "title": f"Test Show {i}",
            "because_you_liked": [{"anime_id": 9253, "title": "Steins;Gate", "similarity": 0.5, "by": "embedding"}],
        }
    return out


def wait_catalogue(url: str, timeout: float = 10.0) -> dict[str, Any]:
    """Waits until the explainer's /readyz shows a loaded title catalogue; returns that status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = httpx.get(f"{url}/readyz").json()["title_catalogue"]
        if status["state"] == "loaded":
            return status
        time.sleep(0.05)
    raise AssertionError(f"title catalogue not loaded: {status}")
