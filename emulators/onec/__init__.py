"""1C ClientBankExchange statement files: generator (`generator`), test-side reader (`parser`)."""
from emulators.onec.generator import FileOptions, render, render_lines
from emulators.onec.parser import ExchangeFile, parse

__all__ = ["ExchangeFile", "FileOptions", "parse", "render", "render_lines"]
