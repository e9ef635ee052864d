"""`animerec recommend-eval`: the evaluation table of every ranking strategy on a processed dataset."""

from __future__ import annotations

import argparse
import time
from typing import Any

from animerec_shared.cli import print_summary, progress


def _evaluate(args: argparse.Namespace) -> int:
    from animerec_ranking import RankingParams, fit_ranking, strategies_of
    from animerec_ranking.datasets import load_processed
    from animerec_ranking.evaluation import evaluate_strategy
    from animerec_ranking.model_versions import load_model_version
    from animerec_shared.storage import open_storage

    from .config import Settings

    storage = open_storage(Settings().storage_url)
    model = load_model_version(storage, args.version)
    data = load_processed(storage.fetch_dir(f"processed/{model.processed_id}"))
    start = time.perf_counter()
    fitted = fit_ranking(data, model.user_embeddings, model.anime_embeddings, RankingParams(ease_top_n=args.ease_top_n))
    progress(f"fitted in {time.perf_counter() - start:.1f}s; weights {fitted.weights}")
    seen = data.matrix(data.train_part)
    table: dict[str, Any] = {}
    for name, fn in strategies_of(fitted).items():
        table[name] = evaluate_strategy(fn, seen, data.test)
        progress(f"{name:14s} {table[name]}")
    print_summary(
        {
            "model_version": model.version,
            "processed_id": model.processed_id,
            "strategies": table,
            "weights": fitted.weights,
            "tuning": fitted.report,
        }
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds the recommender's commands to the animerec CLI."""
    p = subparsers.add_parser(
        "recommend-eval",
        help="evaluate every ranking strategy (tuned on val) on test",
        description="Fits the recommender's ranking core on a model version's processed dataset, tunes the blend "
        "on val and prints NDCG@10, Recall@10 and HR@10 of every ranking strategy on the test holdout "
        '(progress on stderr, one JSON summary last on stdout; {"error": ...} there when it fails).',
    )
    p.add_argument("--version", default=None, help="model version (default: models/CURRENT)")
    p.add_argument(
        "--ease-top-n",
        type=int,
        default=2500,
        help="the N most-rated anime take part in the EASE item-item model (default 2500)",
    )
    p.add_argument("--json", action="store_true", help="end with a one-line JSON summary (always printed)")
    p.set_defaults(func=_evaluate)
