"""Kontur.Diadoc API emulator (JSON mode): see docs/edo.md."""
from emulators.diadoc.app import create_app

__all__ = ["create_app"]
