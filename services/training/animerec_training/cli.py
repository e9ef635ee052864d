"""``animerec train``, ``animerec evaluate`` and ``animerec pipeline``."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from animerec_shared.cli import print_summary, progress
from animerec_shared.errors import AnimeRecError
from animerec_shared.storage import open_storage

from .config import Settings
from .progress_bar import RunBar

MODELS = ("two_tower", "seed")
POLICIES = ("never", "if_better", "always")


def _param(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _metrics_table(metrics: dict[str, dict[str, Any]]) -> str:
    """Plain single list (comparable with peers), then the lists as served: discovery NDCG@10 and
    the continue list's HR@10 ("-" where a strategy has none, e.g. the simulated cold starts)."""
    lines = [
        f"  {'strategy':<14} {'NDCG@10':>8} {'Recall@10':>10} {'HR@10':>7} {'disc.NDCG@10':>13} {'cont.HR@10':>11}"
    ]
    for name, m in metrics.items():
        disc, cont = m.get("discovery_ndcg@10"), m.get("continue_hr@10")
        lines.append(
            f"  {name:<14} {m['ndcg@10']:>8.4f} {m['recall@10']:>10.4f} {m['hr@10']:>7.4f} "
            f"{'-' if disc is None else f'{disc:.4f}':>13} {'-' if cont is None else f'{cont:.4f}':>11}"
        )
    return "\n".join(lines)


def _bce_line(summary: dict[str, Any]) -> str:
    if summary.get("val_bce") is None:
        return ""
    return f"\n  val BCE {summary['val_bce']:.4f} (always predicting the training mean: {summary['mean_bce']:.4f})"


def _train(args: argparse.Namespace) -> int:
    from .runner import run_training
    from .status import StatusFile

    settings = Settings()
    params = dict(args.param or [])
    if args.fit_on:
        params["fit_on"] = args.fit_on
    status = StatusFile(Path(args.status_file) if args.status_file else None, id=args.run_id)
    with RunBar(False if args.json or args.status_file else None) as bar:
        summary = run_training(
            settings,
            model=args.model,
            epochs=args.epochs,
            processed_id=args.processed_id,
            promote=args.promote,
            params=params,
            status=status,
            on_progress=bar.update,
        )
    if args.json:
        print_summary(summary)
    else:
        print(
            f"model version {summary['version']} ({summary['model']}, processed {summary['processed_id']}), "
            f"{summary['promotion']['decision']}\n{_metrics_table(summary['metrics'])}{_bce_line(summary)}"
        )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_version

    progress("evaluating on the test holdout (plain, discovery and continue lists; cold start)")
    with RunBar(False if args.json else None) as bar:
        summary = evaluate_version(open_storage(Settings().storage_url), args.version, on_progress=bar.evaluation)
    if args.json:
        print_summary(summary)
    else:
        blend = (
            "the blend stored in metrics.json, as served"
            if summary["blend"] == "stored"
            else "no stored blend: tuned on val"
        )
        print(
            f"model version {summary['version']} ({summary['model']}) on processed {summary['processed_id']}"
            f"{' [current]' if summary['current'] else ''}, hybrid and cold start: {blend}\n"
            f"{_metrics_table(summary['metrics'])}{_bce_line(summary)}"
        )
    return 0


def run_step(argv: list[str]) -> dict[str, Any]:
    """Returns the last-line JSON summary of an `animerec ...` command run as a subprocess."""
    cmd = [sys.executable, "-m", "animerec_shared.cli", *argv, "--json"]
    progress("running: animerec " + " ".join(argv))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    last: Any = None
    if lines:
        try:
            last = json.loads(lines[-1])
        except json.JSONDecodeError:
            last = None
    if proc.returncode != 0 or not isinstance(last, dict) or "error" in last:
        step_error = last.get("error") if isinstance(last, dict) else None  # the step's own error envelope
        reason = f": {step_error.get('message')}" if isinstance(step_error, dict) else ""
        raise AnimeRecError(
            f"`animerec {' '.join(argv)}` failed with exit code {proc.returncode}{reason}",
            code="pipeline_step_failed",
            status_code=500,
            details={"step": argv[0], "exit_code": proc.returncode, "error": step_error},
        )
    return last


def _pipeline(args: argparse.Namespace) -> int:
    from .runner import run_training

    started = time.perf_counter()
    with RunBar(False if args.json else None) as bar:
        bar.update("ingest", 0.0, 0.0, None)
        raw = run_step(["ingest", "--source", str(Path(args.source).resolve())])
        bar.update("process", 0.0, 0.0, None)
        processed = run_step(
            [
                "process",
                "--raw-dataset",
                raw["id"],
                *(["--min-ratings", str(args.min_ratings)] if args.min_ratings else []),
            ]
        )
        summary = run_training(
            Settings(),
            model=args.model,
            epochs=args.epochs,
            processed_id=processed["id"],
            promote=args.promote,
            on_progress=bar.update,
        )
    seconds = round(time.perf_counter() - started, 1)
    summary = {
        **summary,
        "raw_dataset": raw["id"],
        "processed_id": processed["id"],
        "ratings": processed.get("ratings"),
        "users": processed.get("users"),
        "pipeline_seconds": seconds,
    }
    if args.json:
        print_summary(summary)
    else:
        print(
            f"raw {raw['id']} -> processed {processed['id']} -> model {summary['version']} "
            f"(promoted: {summary['promoted']}, current: {summary['current']}) in {seconds} s\n"
            f"{_metrics_table(summary['metrics'])}{_bce_line(summary)}"
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds the training service's commands to the `animerec` CLI."""
    train = subparsers.add_parser(
        "train",
        help="train a model into a new model version (and evaluate it)",
        description="Trains a model on a processed dataset, tracks the run with Comet ML (online with "
        "COMET_API_KEY, else an offline archive stored as experiments/<version>/*.zip), evaluates it on the test "
        "holdout and publishes models/<version>; --promote decides whether it becomes models/CURRENT. With --json "
        'a failure ends with {"error": {"code", "message", "details"}} on stdout and exit code 1.',
    )
    train.add_argument("--model", choices=MODELS, default=None, help="default TRAINING_DEFAULT_MODEL (two_tower)")
    train.add_argument("--epochs", type=int, default=None, help="maximum epochs (default: the model's)")
    train.add_argument("--processed-id", default=None, help="processed dataset (default processed/CURRENT)")
    train.add_argument(
        "--promote",
        choices=POLICIES,
        default=None,
        help="make the new version current: never, if_better (served hybrid and cold-start NDCG@10 not worse), always",
    )
    train.add_argument(
        "--fit-on",
        choices=("train", "train_part"),
        default=None,
        help="two_tower: fit on train only (val held out, early stopping) or train+val",
    )
    train.add_argument(
        "--param",
        type=_param,
        action="append",
        metavar="KEY=VALUE",
        help="override a hyper-parameter (JSON value), e.g. --param temperature=0.1",
    )
    train.add_argument("--status-file", default=None, help=argparse.SUPPRESS)
    train.add_argument("--run-id", default=None, help=argparse.SUPPRESS)
    train.add_argument("--json", action="store_true", help="print a one-line JSON summary last")
    train.set_defaults(func=_train)

    ev = subparsers.add_parser(
        "evaluate",
        help="evaluate a model version against the baselines, with the "
        "hybrid blend stored in its metrics.json (as served)",
        description="Evaluates a stored model version on its processed dataset's test holdout: the plain list, "
        "the discovery and continue lists as served and cold start, next to the baselines, with the hybrid blend "
        "stored in its metrics.json (tuned on val when it has none).",
    )
    ev.add_argument("--version", default=None, help="model version (default models/CURRENT)")
    ev.add_argument("--json", action="store_true", help="print a one-line JSON summary last")
    ev.set_defaults(func=_evaluate)

    pipe = subparsers.add_parser(
        "pipeline",
        help="ingest, process, train, evaluate, promote when better",
        description="Runs animerec ingest and animerec process (as subprocesses), then trains and evaluates a new "
        "model version on the processed dataset and promotes it by --promote. With --json a failed step ends "
        'with {"error": {"code": "pipeline_step_failed", ...}} on stdout, the step\'s own error in its details.',
    )
    pipe.add_argument("--source", required=True, help="folder with the Kaggle files")
    pipe.add_argument("--min-ratings", type=int, default=None, help="keep users with at least N ratings")
    pipe.add_argument("--model", choices=MODELS, default=None, help="default TRAINING_DEFAULT_MODEL (two_tower)")
    pipe.add_argument("--epochs", type=int, default=None, help="maximum epochs (default: the model's)")
    pipe.add_argument(
        "--promote",
        choices=POLICIES,
        default="if_better",
        help="make the new version current: never, if_better (default: served hybrid and cold-start NDCG@10 not "
        "worse), always",
    )
    pipe.add_argument("--json", action="store_true", help="print a one-line JSON summary last")
    pipe.set_defaults(func=_pipeline)
