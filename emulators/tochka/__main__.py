"""`python -m emulators.tochka --port N [--seed file.yaml]`: run the Tochka emulator in the foreground.

Webhooks go out from background threads here (like the real bank); tests usually build the app
with `create_app(webhook_sync=True)` instead, so a control call returns after delivery.
"""
from __future__ import annotations

from emulators.common.server import run_main
from emulators.tochka.app import create_app


def main(argv: list[str] | None = None) -> None:
    run_main(lambda seed: create_app(seed, webhook_sync=False), "Tochka Bank Open API emulator", 8092, argv)


if __name__ == "__main__":
    main()
