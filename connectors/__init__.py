"""One package per outside system; importing this registers every installed connector."""
from connectors import bitrix24  # noqa: F401
from connectors import telegram  # noqa: F401
from connectors import banks, fintablo  # noqa: F401
