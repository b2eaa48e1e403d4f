"""`python -m emulators.fintablo --port N [--seed file.yaml]`: run the Fintablo emulator in the foreground."""
from __future__ import annotations

import argparse

from emulators.common.server import serve_forever
from emulators.fintablo.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Fintablo API emulator")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", default=None, help="seed YAML (default: seeds/demo.yaml)")
    args = parser.parse_args()
    serve_forever(create_app(args.seed), args.port, args.host)


if __name__ == "__main__":
    main()
