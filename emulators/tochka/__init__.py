"""Tochka Bank Open API emulator: see docs/emulators/tochka.md."""
from emulators.tochka.app import create_app

__all__ = ["create_app"]
