"""`python -m emulators.bitrix24 --port 8024 --seed emulators/bitrix24/seeds/demo.yaml`

Starts a portal a person can curl; prints the incoming-webhook URL and the outgoing-event token.
"""
from __future__ import annotations

import argparse
import sys

from emulators.common.server import serve_forever

from . import DEMO_SEED, create_app
from .seed import load_seed


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m emulators.bitrix24", description=__doc__)
    ap.add_argument("--port", type=int, default=8024)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--seed", default=DEMO_SEED, help="seed YAML (default: the demo portal); 'none' for empty")
    ap.add_argument("--token", help="application_token sent with outgoing events")
    ap.add_argument("--code", help="incoming-webhook code (the secret path segment)")
    ap.add_argument("--user", type=int, help="incoming-webhook user id")
    ap.add_argument("--handler", action="append", default=[], metavar="EVENT=URL",
                    help="outgoing event handler, e.g. ONCRMDEALUPDATE=http://127.0.0.1:8000/hooks/bitrix24")
    ap.add_argument("--no-rate-limit", action="store_true", help="switch the leaky bucket off")
    ap.add_argument("--plan", choices=["standard", "enterprise"], default="standard")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    seed = dict(load_seed(None if args.seed == "none" else args.seed) or {})
    handlers = list(seed.get("handlers") or [])
    for spec in args.handler:
        event, sep, url = spec.partition("=")
        if not sep:
            sys.exit(f"--handler expects EVENT=URL, got {spec!r}")
        handlers.append({"event": event, "url": url})
    seed["handlers"] = handlers  # part of the seed, so /_emulator/reset keeps them
    app = create_app(seed, webhook_user_id=args.user, webhook_code=args.code, application_token=args.token,
                     rate_limit=not args.no_rate_limit, plan=args.plan)
    cfg = app.extensions["bitrix24"].config
    print(f"webhook: http://{args.host}:{args.port}/rest/{cfg.webhook_user_id}/{cfg.webhook_code}/", flush=True)
    print(f"application_token: {cfg.application_token}", flush=True)
    serve_forever(app, args.port, args.host)


if __name__ == "__main__":
    main()
