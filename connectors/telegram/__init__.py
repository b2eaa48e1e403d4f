"""Telegram: webhook intake per bot, paced sending through python-telegram-bot, chat bindings."""
from connectors.telegram import actions, actions_chat, builtin  # noqa: F401  (register the actions)
from connectors.telegram.connector import TelegramConnector
from connectors.telegram.settings import TelegramSettings
from relay.registry import register_connector

register_connector("telegram", TelegramSettings, lambda settings, runtime: TelegramConnector(settings, runtime))
