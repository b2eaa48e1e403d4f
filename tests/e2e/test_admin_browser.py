"""The admin UI in a real browser (Playwright + Debian's chromium) against a real relay:
log in, read a trace, retry a dead letter until it is done, cancel a timer. Screenshots of every
page land in test-artifacts/admin/ so a reviewer can see what admins see."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from relay.store.schema import Effect, InboxEvent, Timer
from tests.e2e import switch_plugin
from tests.e2e.conftest import PASSWORD, Site, shot


def log_in(page: Any, site: Site, then: str = "/admin/") -> None:
    page.goto(site.url + then)
    expect(page.get_by_role("heading", name="Log in / Вход")).to_be_visible()
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in / Войти").click()


def test_login_trace_entity_and_rules(sqlite_site: Site, page: Any) -> None:
    site = sqlite_site
    site.post(type="deal.won", entity="bitrix24:deal:1", id="evt-1", deal=1)
    site.post(type="deal.seen", entity="bitrix24:deal:9", id="evt-9", deal=9)  # no rule: a trace that says so
    assert site.work() == 2

    page.goto(f"{site.url}/admin/")
    page.fill("input[name=password]", "not the password")
    page.get_by_role("button", name="Log in / Войти").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong password")
    shot(page, "01-login-wrong-password")

    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in / Войти").click()
    expect(page.get_by_role("heading", name="Dashboard / Сводка")).to_be_visible()
    expect(page.locator("figure.chart figcaption")).to_contain_text("shop — 2")
    expect(page.locator("svg rect.bar")).to_have_count(24)
    shot(page, "02-dashboard")

    page.get_by_role("link", name="Events / События").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    page.fill("input[name=q]", "deal:1")
    page.get_by_role("button", name="Filter / Найти").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    shot(page, "03-events")

    page.locator("tbody tr td a").first.click()
    expect(page.locator("#event-status")).to_have_text("done")
    trace = page.locator("#trace")
    expect(trace).to_contain_text("rule set-stage matched")
    expect(trace).to_contain_text("claimed")
    expect(page.locator("#effects")).to_contain_text("set-stage|shop|evt-1")
    expect(page.locator("pre.payload")).to_contain_text('"deal.won"')
    shot(page, "04-event-trace")

    page.get_by_role("link", name="Why? / Почему?").click()
    page.fill("input[name=key]", "bitrix24:deal:1")
    page.get_by_role("button", name="Show / Показать").click()
    writes = page.locator("#writes")
    expect(writes).to_contain_text("set-stage")
    expect(writes).to_contain_text("deal.won")
    expect(writes).to_contain_text("bitrix24:deal:1#WON")
    shot(page, "05-why-entity")

    page.get_by_role("link", name="Rules / Правила").click()
    expect(page.locator("#rule-set-stage")).to_contain_text("e2e_set_field")
    expect(page.locator("#rule-remind-later")).to_contain_text("start_timer")
    expect(page.locator("ul.warnings")).to_contain_text("mapping is not used by any rule")
    shot(page, "06-rules")

    page.get_by_role("button", name="Log out / Выйти").click()
    page.goto(f"{site.url}/admin/events")
    expect(page.get_by_role("heading", name="Log in / Вход")).to_be_visible()


def test_dead_letter_retried_from_the_ui_then_done(sqlite_site: Site, page: Any) -> None:
    site = sqlite_site
    switch_plugin.BROKEN["on"] = True
    site.post(type="deal.won", entity="bitrix24:deal:2", id="evt-2", deal=2)
    site.work()
    with site.runtime.store.session() as s:
        event_id = s.scalar(select(InboxEvent.id))
        assert s.get(InboxEvent, event_id).status == "dead"  # type: ignore[union-attr]

    log_in(page, site, "/admin/dead")
    row = page.locator(f"#dead-{event_id}")
    expect(row).to_contain_text("the CRM refused the field")
    shot(page, "07-dead-letters")

    switch_plugin.BROKEN["on"] = False  # the admin fixed the cause
    row.get_by_role("button", name="Retry / Повторить").click()
    expect(page.locator(".flash")).to_contain_text(f"Event {event_id} queued again")
    expect(page.locator("#dead")).to_contain_text("No dead letters")
    assert site.work() == 1

    page.goto(f"{site.url}/admin/events/{event_id}")
    expect(page.locator("#event-status")).to_have_text("done")
    expect(page.locator("#trace")).to_contain_text("queued again by an admin")
    expect(page.locator("#effects")).to_contain_text("bitrix24:deal:2#WON")
    shot(page, "08-event-after-retry")
    with site.runtime.store.session() as s:
        assert s.scalars(select(Effect.status).where(Effect.event_id == event_id)).all() == ["done"]


def test_timer_cancelled_from_the_ui(sqlite_site: Site, page: Any) -> None:
    site = sqlite_site
    site.post(type="deal.new", entity="bitrix24:deal:3", id="evt-3", deal=3)
    site.work()
    with site.runtime.store.session() as s:
        timer = s.scalars(select(Timer)).one()
    assert timer.status == "pending"

    log_in(page, site, "/admin/timers")
    row = page.locator(f"#timer-{timer.id}")
    expect(row).to_contain_text("reminder")
    expect(row).to_contain_text("deal-3")
    shot(page, "09-timers")
    row.get_by_role("button", name="Cancel / Отменить").click()
    expect(page.locator(".flash")).to_contain_text(f"Timer {timer.id} cancelled")
    expect(page.locator(f"#timer-{timer.id}")).to_have_count(0)

    page.goto(f"{site.url}/admin/timers?status=cancelled")
    expect(page.locator(f"#timer-{timer.id}")).to_contain_text("cancelled")
    shot(page, "10-timers-cancelled")
    with site.runtime.store.session() as s:
        assert s.get(Timer, timer.id).status == "cancelled"  # type: ignore[union-attr]
