"""WSGI entry for gunicorn: `RELAY_CONFIG=config.yaml gunicorn 'relay.wsgi:app'`."""
import os

from relay.config import load_config
from relay.logs import setup_logging
from relay.runtime import Runtime
from relay.web import create_app

_config = load_config(os.environ.get("RELAY_CONFIG", "config.yaml"))
setup_logging(_config.settings.logging.level, _config.settings.logging.format)
app = create_app(Runtime(_config))
