"""One package per outside system; importing this registers every installed connector."""
from connectors import bitrix24  # noqa: F401
from connectors import telegram  # noqa: F401
from connectors import banks, fintablo  # noqa: F401
from connectors import calendar  # noqa: F401
from connectors import planfix  # noqa: F401
from connectors import google_forms  # noqa: F401
from connectors.bitrix24 import contractors, documents, holdings  # noqa: F401  (S5, S20, S24 actions)
from connectors import reports  # noqa: F401
from connectors import edo  # noqa: F401
from connectors import time_reports  # noqa: F401  (S23: report source planfix:time, half-month summary)
