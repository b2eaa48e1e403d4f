"""`python -m emulators.diadoc --port N [--seed file.yaml]`: run the Diadoc emulator in the foreground."""
from __future__ import annotations

from emulators.common.server import run_main
from emulators.diadoc.app import create_app


def main(argv: list[str] | None = None) -> None:
    run_main(create_app, "Kontur.Diadoc API emulator", 8095, argv)


if __name__ == "__main__":
    main()
