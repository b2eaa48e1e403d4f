"""`python -m emulators.tbank --port N [--seed file.yaml]`: run the T-Bank emulator in the foreground."""
from __future__ import annotations

from emulators.common.server import run_main
from emulators.tbank.app import create_app


def main(argv: list[str] | None = None) -> None:
    run_main(lambda seed: create_app(seed, webhook_sync=False), "T-Bank business API emulator", 8093, argv)


if __name__ == "__main__":
    main()
