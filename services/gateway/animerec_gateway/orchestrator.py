"""Admin orchestration: ingestion -> processing -> training (with evaluation and promotion) -> reload."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from animerec_shared.contracts import training as training_api
from animerec_shared.contracts.ingestion import IngestionCreate, ProcessingRunCreate
from animerec_shared.errors import AnimeRecError, ConflictError, NotFoundError, UpstreamUnavailable

from .config import Settings
from .schemas import PipelineRun, PipelineStep, PromoteResult, TrainingRunCreate
from .upstreams import Upstream, UpstreamTimeout

log = logging.getLogger("animerec.gateway.admin")

START_TIMEOUT_SECONDS = 30.0  # starting a job may validate its input first
ADMIN_POLL_INTERVAL_SECONDS = 1.0  # between two status reads of a running step
ADMIN_POLL_FAILURES_ALLOWED = 30  # status reads in a row that may fail (upstream restarting) before the step fails
MAX_KEPT_RUNS = 100


class StepFailed(Exception):
    """A step ended in state failed (or never ended); carries the upstream error."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class Orchestrator:
    """Runs at most one training pipeline at a time as a background task and keeps recent runs in memory."""

    def __init__(
        self,
        upstreams: Any,
        settings: Settings,
        *,
        poll_interval_seconds: float = ADMIN_POLL_INTERVAL_SECONDS,
        on_model_changed: Callable[[], None] | None = None,
    ):
        self.upstreams = upstreams
        self.settings = settings
        self.poll_interval_seconds = poll_interval_seconds
        # called once the recommender has swapped its model (the gateway empties its response cache)
        self.on_model_changed = on_model_changed
        self.runs: dict[str, PipelineRun] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def active(self) -> PipelineRun | None:
        """Returns the run still queued or running, if any."""
        return next((r for r in self.runs.values() if r.state in ("queued", "running")), None)

    def start(self, body: TrainingRunCreate) -> PipelineRun:
        """Returns the new run after scheduling it; 409 `training_in_progress` while another runs."""
        busy = self.active()
        if busy is not None:
            raise ConflictError(
                "a training run is already in progress", code="training_in_progress", details={"id": busy.id}
            )
        names = (["ingestion"] if body.source else []) + ([] if body.processed_id else ["processing"])
        steps = [PipelineStep(name=n) for n in names + ["training", "reload"]]
        run = PipelineRun(
            id=uuid.uuid4().hex[:16], steps=steps, request=body, created_at=time.time(), processed_id=body.processed_id
        )
        self.runs[run.id] = run
        while len(self.runs) > MAX_KEPT_RUNS:
            self.runs.pop(next(iter(self.runs)))
        task = asyncio.create_task(self._run(run), name=f"training-run-{run.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return run

    def get(self, run_id: str) -> PipelineRun:
        """Returns a run by id; 404 `training_run_not_found` otherwise."""
        run = self.runs.get(run_id)
        if run is None:
            raise NotFoundError(f"no training run {run_id!r}", code="training_run_not_found")
        return run

    async def promote(self, version: str) -> PromoteResult:
        """Returns the result of promoting a stored version (rollback included) and reloading the recommender.

        The training service validates the version before it moves models/CURRENT (422 otherwise). When
        the recommender still refuses it (a 4xx answer to /admin/reload: it keeps serving the old one),
        the previous version is promoted again so that CURRENT names what is served and a restarted
        recommender loads that, and the refusal is raised (its details say what was restored).
        """
        training: Upstream = self.upstreams["training"]
        wait = self.settings.admin_reload_timeout_seconds
        answer = await training.json("POST", f"/models/{version}/promote", timeout=wait)
        previous = answer.get("previous") if isinstance(answer, dict) else None
        try:
            reloaded = await self.upstreams["recommender"].json(
                "POST", "/admin/reload", json_body={"version": version}, timeout=wait
            )
        except AnimeRecError as exc:
            await self._restore_after_refusal(exc, version, previous)
            raise
        self._model_changed()
        return PromoteResult(
            version=version,
            promoted=True,
            model_version=reloaded.get("model_version"),
            training=answer if isinstance(answer, dict) else None,
        )

    async def _restore_after_refusal(self, exc: AnimeRecError, version: str, previous: str | None) -> None:
        """Promotes previous again when the recommender refused version (a 4xx); notes the outcome in exc.details."""
        if not 400 <= exc.status_code < 500 or not previous or previous == version:
            return
        details = exc.details if isinstance(exc.details, dict) else {}
        try:
            await self.upstreams["training"].json(
                "POST", f"/models/{previous}/promote", timeout=self.settings.admin_reload_timeout_seconds
            )
        except AnimeRecError as again:
            log.error("recommender refused %s and re-promoting %s failed: %s", version, previous, again.message)
            exc.details = {**details, "restored": None, "restore_error": again.message}
            return
        log.warning("recommender refused %s: models/CURRENT points at %s again", version, previous)
        exc.details = {**details, "restored": previous}

    async def aclose(self) -> None:
        """Cancels runs still going (their state becomes failed)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, run: PipelineRun) -> None:
        run.state = "running"
        req = run.request
        try:
            if req.source:
                done = await self._step(
                    run,
                    "ingestion",
                    self.upstreams["ingestion"],
                    "/ingestions",
                    IngestionCreate(source=req.source).model_dump(),
                )
                run.dataset_id = done.get("dataset_id")
            if not req.processed_id:
                # the bodies sent are the upstreams' contract models (no raw_dataset: raw/CURRENT)
                body = ProcessingRunCreate(raw_dataset=run.dataset_id, min_ratings=req.min_ratings)
                done = await self._step(
                    run,
                    "processing",
                    self.upstreams["ingestion"],
                    "/processing-runs",
                    body.model_dump(exclude_none=True),
                )
                run.processed_id = done.get("processed_id")
            create = training_api.TrainingRunCreate(
                model=req.model, epochs=req.epochs, processed_id=run.processed_id, promote=req.promote
            )
            done = await self._step(run, "training", self.upstreams["training"], "/training-runs", create.model_dump())
            run.version, run.promoted = done.get("version"), bool(done.get("promoted"))
            run.metrics = done.get("metrics")
            await self._reload(run)
            run.state = "succeeded"
        except StepFailed as exc:
            self._fail(run, exc.code, exc.message)
        except AnimeRecError as exc:
            self._fail(run, exc.code, exc.message)
        except asyncio.CancelledError:
            self._fail(run, "cancelled", "the gateway stopped before the run finished")
            raise
        except Exception as exc:  # a bug must still leave the run in a final state
            log.exception("training run %s crashed", run.id)
            self._fail(run, "internal_error", f"{type(exc).__name__}: {exc}")
        finally:
            run.step = None
            run.finished_at = time.time()
            log.info("training run %s finished: %s", run.id, run.state)

    def _fail(self, run: PipelineRun, code: str, message: str) -> None:
        run.state = "failed"
        run.error = {"step": run.step, "code": code, "message": message}
        for step in run.steps:
            if step.state == "running":
                step.state, step.finished_at = "failed", time.time()

    def _begin(self, run: PipelineRun, name: str) -> PipelineStep:
        step = next(s for s in run.steps if s.name == name)
        run.step, step.state, step.started_at = name, "running", time.time()
        return step

    async def _reload(self, run: PipelineRun) -> None:
        step = self._begin(run, "reload")
        if not run.promoted:
            step.state, step.finished_at = "skipped", time.time()
            return
        try:
            answer = await self.upstreams["recommender"].json(
                "POST",
                "/admin/reload",
                json_body={"version": run.version},
                timeout=self.settings.admin_reload_timeout_seconds,
            )
        except AnimeRecError as exc:  # refused: CURRENT goes back to the version served before the run
            training = next((s for s in run.steps if s.name == "training"), None)
            promotion = (training.result or {}).get("promotion") if training else None
            previous = promotion.get("current_version") if isinstance(promotion, dict) else None
            await self._restore_after_refusal(exc, str(run.version), previous)
            raise
        run.model_version = answer.get("model_version")
        self._model_changed()
        step.result, step.state, step.finished_at = answer, "succeeded", time.time()

    def _model_changed(self) -> None:
        if self.on_model_changed is not None:
            self.on_model_changed()

    async def _step(
        self, run: PipelineRun, name: str, upstream: Upstream, path: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Returns the final state of an upstream job after starting it and polling until it ends."""
        step = self._begin(run, name)
        started = await upstream.json("POST", path, json_body=body, timeout=START_TIMEOUT_SECONDS)
        step.upstream_id = str(started["id"])
        final = await self._poll(upstream, f"{path}/{step.upstream_id}", step)
        step.result, step.state, step.finished_at = final, "succeeded", time.time()
        return final

    async def _poll(self, upstream: Upstream, path: str, step: PipelineStep) -> dict[str, Any]:
        deadline = time.monotonic() + self.settings.admin_step_timeout_seconds
        failures = 0
        while True:
            try:
                state = await upstream.json("GET", path)
                failures = 0
            except (UpstreamUnavailable, UpstreamTimeout):
                # A restart of the upstream mid-job is survivable for a while; past that the step fails.
                failures += 1
                if failures > ADMIN_POLL_FAILURES_ALLOWED:
                    raise
            else:
                if isinstance(state.get("progress"), (int, float)):
                    step.progress = float(state["progress"])
                if state.get("state") == "succeeded":
                    return state
                if state.get("state") == "failed":
                    err = state.get("error")
                    if isinstance(err, dict):
                        raise StepFailed(str(err.get("code", f"{step.name}_failed")), str(err.get("message", err)))
                    raise StepFailed(f"{step.name}_failed", str(err or f"{step.name} failed"))
            if time.monotonic() > deadline:
                limit = self.settings.admin_step_timeout_seconds
                raise StepFailed("step_timeout", f"{step.name} did not finish in {limit}s")
            await asyncio.sleep(self.poll_interval_seconds)
