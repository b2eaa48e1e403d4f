"""Telegram pacing benchmark: 300 messages to 10 groups through the whole relay, real limits, real clock.

    python bench/telegram_pacing.py [--chats 10] [--per-chat 30] [--threads 10]

The Telegram emulator runs with its default flood control (30/s per bot, 20/min per group, 3 per 3 s
per chat) on a real clock. Events go into the relay's inbox (one entity per chat, so each chat's
messages keep their order), a started Worker runs the rule `send_message` for each, and the
connector's pacer spaces the sends. Printed: 429s the emulator answered, the total time, the
minimum time the limits allow, and the ratio. Goal: zero 429s, ratio ≤ 110%. Takes over a minute.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulators.common.server import serve_in_thread  # noqa: E402
from emulators.telegram import Clock, create_app  # noqa: E402
from emulators.telegram.seed import DEMO_SEED  # noqa: E402
from relay.intake.base import IncomingEvent  # noqa: E402
from relay.runtime import Runtime  # noqa: E402
from relay.worker import Worker  # noqa: E402

TOKEN = "7000000001:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-bs"
CONFIG = """\
store:
  url: sqlite:///{db}
worker:
  threads: {threads}
  poll_seconds: 0.02
logging:
  level: WARNING
sources:
  bench:
    type: webhook
    secret: bench-secret-0123456789
connectors:
  telegram:
    bots:
      main:
        token: "{token}"
        secret_token: bench-webhook-secret
        api_url: "{api}"
rules: [rules.yaml]
mappings: []
"""
RULES = """\
rules:
  - id: notify
    when: {source: bench, kind: notify}
    do:
      - send_message: {chat: "{{ payload.chat }}", text: "{{ payload.text }}"}
"""


def minimum_seconds(chats: int, per_chat: int, windows: list[tuple[str, int, float]]) -> float:
    """The earliest the last send can go out under sliding windows ("at most N in any W seconds"),
    sends taking no time: each message, in order, at the first instant every window has room.
    Greedy is optimal here: sending any message later never lets a later one go earlier."""
    sent: dict[tuple[str, int], list[float]] = {}
    last = [0.0] * chats
    finish = 0.0
    for n in range(chats * per_chat):
        chat = n % chats
        t = last[chat]
        while True:
            later = t
            for scope, count, seconds in windows:
                times = sent.get((scope, chat if scope != "overall" else -1), [])
                inside = [s for s in times if s > t - seconds]
                if len(inside) >= count:
                    later = max(later, sorted(inside)[len(inside) - count] + seconds)
            if later == t:
                break
            t = later
        for scope, _, _ in windows:
            sent.setdefault((scope, chat if scope != "overall" else -1), []).append(t)
        last[chat] = t
        finish = max(finish, t)
    return finish


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=10)
    parser.add_argument("--per-chat", type=int, default=30)
    parser.add_argument("--threads", type=int, default=10)
    args = parser.parse_args()

    app = create_app(seed=DEMO_SEED, clock=Clock())  # real clock, default (real) limits
    state = app.extensions["telegram"]
    limits = state.limiter.settings
    emulator = serve_in_thread(app)
    tmp = Path(tempfile.mkdtemp(prefix="relay-tg-bench-"))
    (tmp / "rules.yaml").write_text(RULES, encoding="utf-8")
    (tmp / "config.yaml").write_text(CONFIG.format(db=tmp / "relay.db", threads=args.threads, token=TOKEN, api=emulator.url), encoding="utf-8")
    runtime = Runtime.from_file(tmp / "config.yaml")
    try:
        import requests
        chats = [requests.post(f"{emulator.url}/_emulator/chats", json={"type": "supergroup", "title": f"Клиент {i}", "members": [100000001]},
                               timeout=5).json()["id"] for i in range(args.chats)]
        total = args.chats * args.per_chat
        runtime.inbox.add("bench", [IncomingEvent("notify", f"chat:{chats[n % args.chats]}", {"chat": str(chats[n % args.chats]), "text": f"#{n}"}, f"n{n}")
                                    for n in range(total)])
        worker = Worker(runtime)
        started = time.monotonic()
        worker.start()
        while sum(runtime.inbox.depth().get(s, 0) for s in ("done", "dead")) < total:
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        worker.stop()
        dead = runtime.inbox.depth().get("dead", 0)
        stats = requests.get(f"{emulator.url}/_emulator/stats", timeout=5).json()
        delivered = sum(len(requests.get(f"{emulator.url}/_emulator/chats/{c}/sent", timeout=5).json()) for c in chats)
    finally:
        runtime.close()
        emulator.stop()
        state.close()
    windows = [("overall", limits.overall.count, limits.overall.seconds), ("group", limits.per_group.count, limits.per_group.seconds),
               ("chat", limits.per_chat.count, limits.per_chat.seconds)]
    minimum = minimum_seconds(args.chats, args.per_chat, windows)
    even = (args.per_chat - 1) * limits.per_group.seconds / limits.per_group.count
    print(f"telegram pacing: {total} messages to {args.chats} groups ({args.per_chat} each), {args.threads} worker threads")
    print(f"emulator limits: overall {limits.overall.count}/{limits.overall.seconds:g}s, per group {limits.per_group.count}/{limits.per_group.seconds:g}s, "
          f"per chat {limits.per_chat.count}/{limits.per_chat.seconds:g}s")
    print(f"delivered:       {delivered} of {total} (dead letters: {dead})")
    print(f"429s:            {stats['too_many_requests_total']}")
    print(f"total time:      {elapsed:.1f} s")
    print(f"minimum allowed: {minimum:.1f} s  (sliding windows; evenly spaced at {limits.per_group.count}/min it would be {even:.1f} s)")
    print(f"ratio:           {elapsed / minimum * 100:.1f}% of the minimum (goal ≤ 110%, zero 429s)")
    return 0 if stats["too_many_requests_total"] == 0 and delivered == total else 1


if __name__ == "__main__":
    sys.exit(main())
