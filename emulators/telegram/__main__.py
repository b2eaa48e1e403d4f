"""`python -m emulators.telegram --port 8081 [--bot TOKEN ...] [--seed FILE]`."""
from __future__ import annotations

import argparse

from emulators.common.server import serve_forever

from .app import create_app
from .seed import DEMO_SEED


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulators.telegram", description=__doc__)
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--bot", action="append", default=[], metavar="TOKEN",
                        help="accept this bot token (repeatable)")
    parser.add_argument("--seed", help=f"seed YAML/JSON (default when no --bot: {DEMO_SEED.name})")
    args = parser.parse_args(argv)
    seed = args.seed or (None if args.bot else DEMO_SEED)
    serve_forever(create_app(seed=seed, bots=args.bot), args.port, host=args.host)


if __name__ == "__main__":
    main()
