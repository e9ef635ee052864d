"""`animerec` subcommands of the gateway."""

from __future__ import annotations

import argparse
import secrets

from animerec_shared.cli import print_summary


def _admin_token(args: argparse.Namespace) -> int:
    token = secrets.token_urlsafe(args.bytes)
    if args.json:
        print_summary({"admin_token": token})
    else:
        print(token)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `animerec admin-token` (a fresh random GATEWAY_ADMIN_TOKEN for the gateway)."""
    p = subparsers.add_parser(
        "admin-token",
        help="print a new random GATEWAY_ADMIN_TOKEN for the gateway",
        description="Prints a new random URL-safe token to set as GATEWAY_ADMIN_TOKEN: the bearer token of the "
        "gateway's admin API. Nothing is stored.",
    )
    p.add_argument("--bytes", type=int, default=32, help="random bytes in the token")
    p.add_argument("--json", action="store_true", help="print a one-line JSON summary")
    p.set_defaults(func=_admin_token)
