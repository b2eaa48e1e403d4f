"""`python -m emulators.google_forms --port N [--seed file.yaml]`: run the Google Forms emulator in the foreground."""
from __future__ import annotations

from emulators.common.server import run_main
from emulators.google_forms.app import create_app


def main(argv: list[str] | None = None) -> None:
    run_main(create_app, "Google Forms API emulator", 8095, argv)


if __name__ == "__main__":
    main()
