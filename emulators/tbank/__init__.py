"""T-Bank (Tinkoff) business API emulator: see docs/emulators/tbank.md."""
from emulators.tbank.app import create_app

__all__ = ["create_app"]
