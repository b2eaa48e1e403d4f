"""`python -m emulators.fintablo --port N [--seed file.yaml]`: run the Fintablo emulator in the foreground."""
from __future__ import annotations

from emulators.common.server import run_main
from emulators.fintablo.app import create_app


def main(argv: list[str] | None = None) -> None:
    run_main(create_app, "Fintablo API emulator", 8091, argv)


if __name__ == "__main__":
    main()
