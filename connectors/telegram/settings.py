"""Settings of the Telegram connector (`connectors.telegram` in config.yaml)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from relay.templating import TemplateStr


class Window(BaseModel):
    """At most `count` sends in any `seconds` window."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, description="sends allowed in the window")
    seconds: float = Field(gt=0, description="the window's length")


class PacingSettings(BaseModel):
    """Outbound pacing per bot: stay under Telegram's limits instead of finding them by 429s."""

    model_config = ConfigDict(extra="forbid")

    overall: Window = Field(Window(count=30, seconds=1.0), description="sends by one bot across all chats (Telegram: ~30/s)")
    per_group: Window = Field(Window(count=20, seconds=60.0), description="sends into one group or supergroup (Telegram: 20/min)")
    per_chat: Window = Field(Window(count=1, seconds=1.0), description="sends into any one chat (Telegram: ~1/s)")
    margin_seconds: float = Field(0.05, ge=0, le=5, description="added to every window: clocks and networks are not exact")
    max_wait_seconds: float = Field(90.0, ge=0, description="a send that would wait longer for pacing or a 429's retry_after is "
                                                            "handed back to the worker as a retry instead of holding a thread")


class BotSettings(BaseModel):
    """One bot: its token from BotFather and the secret Telegram puts on every webhook delivery."""

    model_config = ConfigDict(extra="forbid")

    token: SecretStr = Field(description="bot token from @BotFather, e.g. 123456:ABC-DEF…")
    secret_token: SecretStr = Field(min_length=1, max_length=256, description="setWebhook's secret_token; every delivery must carry it "
                                                                              "in X-Telegram-Bot-Api-Secret-Token")
    api_url: str = Field("https://api.telegram.org", description="Bot API base URL; the sandbox points it at the emulator")
    staff_chat_id: int | None = Field(None, description="chat for the relay's own alerts (bot removed from a chat) and whose members count as staff")
    staff_user_ids: list[int] = Field(default_factory=list, description="users allowed to /bind chats; empty: members of the staff chat")
    removed_alert: TemplateStr = Field(
        "⚠️ Бот удалён из чата «{{ chat.title | e }}» ({{ chat.id }}){% if member.by %}, удалил {{ member.by | e }}{% endif %}. "
        "Сообщения в этот чат больше не доставляются.",
        description="text sent to the staff chat when the bot is removed from a chat (HTML); empty: no alert")
    timeout_seconds: float = Field(20.0, gt=0, description="one Bot API call")


class TelegramSettings(BaseModel):
    """Telegram bots: webhook intake at /hooks/telegram/<bot>, paced sending through python-telegram-bot."""

    model_config = ConfigDict(extra="forbid")

    bots: dict[str, BotSettings] = Field(min_length=1, description="bots by name; the name is the webhook path and the `bot` of actions")
    pacing: PacingSettings = PacingSettings()
