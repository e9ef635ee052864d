"""``animerec explain``: asks the running explainer service for one explanation."""

from __future__ import annotations

import argparse
import sys

import httpx

from animerec_shared.cli import fail, print_summary, progress
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
        return fail(
            "explain", "upstream_unavailable", f"explainer unreachable at {url}: {exc}", {"url": url}, as_json=args.json
        )
    try:
        data = resp.json()
    except ValueError:
        data = None
    if resp.status_code != 200 or not isinstance(data, dict):
        err = data.get("error") if isinstance(data, dict) else None
        if not isinstance(err, dict):  # not the error envelope: say what came back
            err = {"code": "bad_answer", "message": f"HTTP {resp.status_code} from {url}: {resp.text[:200]!r}"}
        return fail(
            "explain",
            str(err.get("code")),
            str(err.get("message")),
            {"status": resp.status_code, **({"details": err["details"]} if err.get("details") is not None else {})},
            as_json=args.json,
        )
    if args.json:
        print_summary(data)
    else:
        print(data["text"])
        suffix = f", fallback: {data['fallback_reason']}" if data.get("fallback_reason") else ""
        print(f"(source: {data['source']}{suffix}; model {data.get('model_version')})", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds ``animerec explain`` to the CLI."""
    p = subparsers.add_parser(
        "explain",
        help="explain why an anime suits a user (asks the explainer service)",
        description="Asks a running explainer service (POST /explanations) why an anime suits a known user or "
        "someone known only by anime they liked; prints the text, or with --json the whole answer "
        '(a failure: {"error": {"code", "message", "details"}} on stdout, exit code 1).',
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user-id", type=int, help="id of a user of the current model")
    who.add_argument("--liked", type=int, nargs="+", help="anime ids someone liked (cold start)")
    p.add_argument("--anime-id", type=int, required=True, help="the anime to explain")
    p.add_argument(
        "--strategy", default=None, help="the strategy that recommended the anime, e.g. hybrid (default: none)"
    )
    p.add_argument("--url", default=None, help="explainer base URL (default: loopback on EXPLAINER_PORT, 8004)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the answer (default 30)")
    p.add_argument("--json", action="store_true", help="print the whole answer as one JSON line")
    p.set_defaults(func=_explain)
