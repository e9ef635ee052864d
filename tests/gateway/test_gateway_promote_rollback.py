"""A promotion the recommender refuses puts models/CURRENT back on the version served before (#16 item 2)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from animerec_gateway.orchestrator import Orchestrator
from animerec_gateway.schemas import TrainingRunCreate
from animerec_shared.errors import AnimeRecError, UpstreamUnavailable


class FakeTraining:
    """POST /models/{v}/promote moves `current`; POST /training-runs promotes a new v2 (if_better)."""

    def __init__(self) -> None:
        self.current = "v1"
        self.calls: list[str] = []

    async def json(self, method: str, path: str, **_: Any) -> Any:
        self.calls.append(f"{method} {path}")
        if path.startswith("/models/") and path.endswith("/promote"):
            version = path.split("/")[2]
            previous, self.current = self.current, version
            return {"model_version": version, "current": version, "previous": previous}
        if path == "/training-runs":
            return {"id": "t1"}
        if path == "/training-runs/t1":
            previous, self.current = self.current, "v2"
            promotion = {"promoted": True, "current_version": previous}
            return {"state": "succeeded", "version": "v2", "promoted": True, "promotion": promotion}
        raise AssertionError(path)


class FakeRecommender:
    """Serves v1 and refuses the versions in `broken` with 422 (or answers 503 when `down`)."""

    def __init__(self, broken: set[str], down: bool = False) -> None:
        self.served = "v1"
        self.broken = broken
        self.down = down

    async def json(self, method: str, path: str, json_body: dict[str, Any], **_: Any) -> Any:
        assert (method, path) == ("POST", "/admin/reload")
        if self.down:
            raise UpstreamUnavailable("the recommender service is unavailable")
        if json_body["version"] in self.broken:
            raise AnimeRecError(
                f"model version {json_body['version']} is corrupt", code="invalid_model_version", status_code=422
            )
        previous, self.served = self.served, json_body["version"]
        return {"model_version": self.served, "previous": previous}


def _orchestrator(training: FakeTraining, recommender: FakeRecommender) -> Orchestrator:
    settings: Any = SimpleNamespace(admin_reload_timeout_seconds=5.0, admin_step_timeout_seconds=5.0)
    upstreams = {"training": training, "recommender": recommender}
    return Orchestrator(upstreams, settings, poll_interval_seconds=0.01)


def test_refused_reload_re_promotes_the_previous_version():
    """Failed on the old code: the 422 was relayed but the training service's CURRENT stayed on v2."""
    training, recommender = FakeTraining(), FakeRecommender({"v2"})
    with pytest.raises(AnimeRecError) as exc:
        asyncio.run(_orchestrator(training, recommender).promote("v2"))
    assert exc.value.status_code == 422 and exc.value.code == "invalid_model_version"
    assert training.current == "v1" and recommender.served == "v1"
    assert training.calls == ["POST /models/v2/promote", "POST /models/v1/promote"]
    assert exc.value.details == {"restored": "v1"}


def test_unreachable_recommender_does_not_undo_the_promotion():
    """A 503 is not a refusal: the recommender picks CURRENT up by polling once it is back."""
    training, recommender = FakeTraining(), FakeRecommender(set(), down=True)
    with pytest.raises(UpstreamUnavailable):
        asyncio.run(_orchestrator(training, recommender).promote("v2"))
    assert training.current == "v2" and training.calls == ["POST /models/v2/promote"]


def test_accepted_reload_keeps_the_new_version():
    training, recommender = FakeTraining(), FakeRecommender(set())
    result = asyncio.run(_orchestrator(training, recommender).promote("v2"))
    assert result.model_version == "v2" and training.current == "v2" and recommender.served == "v2"


def test_training_run_whose_version_the_recommender_refuses_restores_current():
    """Failed on the old code: the run failed at reload but CURRENT stayed on the refused v2."""
    training, recommender = FakeTraining(), FakeRecommender({"v2"})

    async def run() -> Any:
        orch = _orchestrator(training, recommender)
        started = orch.start(TrainingRunCreate(processed_id="p1", promote="if_better"))
        while orch.active() is not None:
            await asyncio.sleep(0.01)
        return started

    finished = asyncio.run(run())
    assert finished.state == "failed" and finished.error and finished.error["code"] == "invalid_model_version"
    assert training.current == "v1" and recommender.served == "v1"
    assert training.calls[-1] == "POST /models/v1/promote"
