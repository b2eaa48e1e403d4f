"""`python -m emulators.tochka --port N [--seed file.yaml]`: run the Tochka emulator in the foreground.

Webhooks go out from background threads here (like the real bank); tests usually build the app
with `create_app(webhook_sync=True)` instead, so a control call returns after delivery.
"""
from __future__ import annotations

import argparse

from emulators.common.server import serve_forever
from emulators.tochka.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Tochka Bank Open API emulator")
    parser.add_argument("--port", type=int, default=8092)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", default=None, help="seed YAML (default: seeds/demo.yaml)")
    args = parser.parse_args()
    serve_forever(create_app(args.seed, webhook_sync=False), args.port, args.host)


if __name__ == "__main__":
    main()
