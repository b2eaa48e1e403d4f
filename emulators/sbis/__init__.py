"""SBIS (Saby) EDO API emulator (JSON-RPC): see docs/edo.md."""
from emulators.sbis.app import create_app

__all__ = ["create_app"]
