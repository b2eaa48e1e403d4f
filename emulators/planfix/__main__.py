"""`python -m emulators.planfix --port N [--seed FILE] [--token T] [--rate-limit] [--hook-base URL]`."""
from __future__ import annotations

import argparse

from emulators.common.server import serve_forever

from .app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulators.planfix", description="Planfix REST v2 emulator")
    parser.add_argument("--port", type=int, default=8093)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", default=None, help="seed YAML (default: the bundled demo agency account)")
    parser.add_argument("--token", default=None, help="an extra full-access API token")
    parser.add_argument("--rate-limit", action="store_true", help="enforce 1 request/second from the start")
    parser.add_argument("--hook-base", default=None, help="base URL for scenario URLs that start with '/'")
    args = parser.parse_args(argv)
    app = create_app(args.seed, token=args.token, rate_limit=args.rate_limit, hook_base=args.hook_base)
    print(f"Planfix REST at http://{args.host}:{args.port}/rest/ ; control at /_emulator/", flush=True)
    serve_forever(app, args.port, host=args.host)


if __name__ == "__main__":
    main()
