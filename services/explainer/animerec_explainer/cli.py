"""``animerec explain``: asks the running explainer service for one explanation."""

from __future__ import annotations

import argparse
import sys

import httpx

from animerec_shared.cli import print_summary, progress
from animerec_shared.settings import port_of


def _explain(args: argparse.Namespace) -> int:
    url = (args.url or f"http://127.0.0.1:{port_of('explainer')}").rstrip("/")
    body: dict[str, object] = {"anime_id": args.anime_id, "strategy": args.strategy}
    if args.user_id is not None:
        body["user_id"] = args.user_id
    else:
        body["liked"] = args.liked
    progress(f"asking {url}/explanations")
    try:
        resp = httpx.post(f"{url}/explanations", json=body, timeout=args.timeout)
    except httpx.HTTPError as exc:
        print(f"animerec explain: explainer unreachable at {url}: {exc}", file=sys.stderr)
        return 1
    data = resp.json()
    if resp.status_code != 200:
        err = data.get("error", {})
        print(f"animerec explain: error [{err.get('code')}]: {err.get('message')}", file=sys.stderr)
        return 1
    if args.json:
        print_summary(data)
    else:
        print(data["text"])
        suffix = f", fallback: {data['fallback_reason']}" if data.get("fallback_reason") else ""
        print(f"(source: {data['source']}{suffix}; model {data.get('model_version')})", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds ``animerec explain`` to the CLI."""
    p = subparsers.add_parser("explain", help="explain why an anime suits a user (asks the explainer service)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user-id", type=int)
    who.add_argument("--liked", type=int, nargs="+", help="anime ids someone liked (cold start)")
    p.add_argument("--anime-id", type=int, required=True)
    p.add_argument("--strategy", default=None)
    p.add_argument("--url", default=None, help="explainer base URL (default: loopback on EXPLAINER_PORT, 8004)")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--json", action="store_true", help="print the whole answer as one JSON line")
    p.set_defaults(func=_explain)
