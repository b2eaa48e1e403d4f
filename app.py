"""CRM Relay entry point: `python app.py --help`."""
import sys

from relay.cli import main

if __name__ == "__main__":
    sys.exit(main())
