"""Seed files: the bots, people and chats an emulator starts with (YAML or JSON, same shape).

    bots:     [{token, first_name, username, can_read_all_group_messages?}]
    users:    [{id, first_name, last_name?, username?, language_code?}]
    chats:    [{type: group|supergroup, id?, title, username?, members: [id | {user, status}],
                bots: {<token|username>: member|administrator|left|kicked}},
               {type: private, user: <id>, bot: <token|username>, started?: true}]
    settings: {…EmulatorSettings…}    limits: {…LimitSettings…}
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .knobs import EmulatorSettings
from .limits import LimitSettings
from .world import create_chat, user_from_spec

if TYPE_CHECKING:
    from .state import TelegramState

DEMO_SEED = Path(__file__).with_name("seeds") / "demo.yaml"


def load_seed(source: str | Path | dict[str, Any]) -> dict[str, Any]:
    if isinstance(source, dict):
        return source
    path = Path(source)
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a seed is a mapping with bots/users/chats")
    return data


def apply_seed(state: "TelegramState", seed: dict[str, Any], remember: bool = True) -> None:
    """Create everything the seed lists; with `remember`, POST /_emulator/reset returns to it."""
    if remember:
        state.seed = seed
    if seed.get("settings"):
        state.settings = EmulatorSettings.model_validate(seed["settings"])
    if seed.get("limits"):
        state.limiter.configure(LimitSettings.model_validate(seed["limits"]))
    for bot in seed.get("bots") or []:
        extra = {k: bot.get(k) for k in ("can_join_groups", "can_read_all_group_messages", "supports_inline_queries")}
        state.add_bot(str(bot["token"]), str(bot.get("first_name") or "Relay"), bot.get("username"), **extra)
    for user in seed.get("users") or []:
        user_from_spec(state, user)
    for chat in seed.get("chats") or []:
        create_chat(state, chat)
