"""Google Forms API emulator (OAuth for service accounts, forms.get, forms.responses.list) and a fake
Apps Script trigger: see docs/emulators/google_forms.md."""
from emulators.google_forms.app import create_app

__all__ = ["create_app"]
