"""Fintablo (ФинТабло) API emulator: see docs/emulators/fintablo.md."""
from emulators.fintablo.app import create_app

__all__ = ["create_app"]
