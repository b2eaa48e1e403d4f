"""`python -m emulators.sbis --port N [--seed file.yaml]`: run the SBIS emulator in the foreground."""
from __future__ import annotations

from emulators.common.server import run_main
from emulators.sbis.app import create_app


def main(argv: list[str] | None = None) -> None:
    run_main(create_app, "SBIS (Saby) EDO API emulator", 8096, argv)


if __name__ == "__main__":
    main()
