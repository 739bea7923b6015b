"""The admin in a real browser (headless Chromium through Playwright): fix a failed workflow and re-run it.

Needs ``pip install playwright`` and a Chromium at /usr/bin/chromium (Debian: ``apt-get install
chromium``); ``playwright install`` is not needed. Set ``DBOS_SCREENSHOT_DIR=docs/images`` to refresh
the screenshots of docs/admin.md.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from dbos_django import DBOS, Queue, SetEnqueueOptions, SetWorkflowID
from tests.app.models import SideEffect

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs `pip install playwright`")
CHROMIUM = os.environ.get("DBOS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]  # fmt: skip
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"the browser test needs Chromium at {CHROMIUM} "
                                                           "(apt-get install chromium, or set DBOS_CHROMIUM)"),
]  # fmt: skip

orders = Queue("browser-orders", polling_interval_sec=0.05)


@DBOS.step()
def reserve_stock(order: dict[str, Any]) -> dict[str, Any]:
    return {"reserved": order["items"]}


@DBOS.step()
def charge_card(order: dict[str, Any]) -> str:
    if not SideEffect.objects.filter(key=f"payments-up-{order['id']}").exists():
        raise RuntimeError("payment provider unavailable")
    return f"ch_{order['id']}"


@DBOS.workflow()
def checkout_order(order: dict[str, Any]) -> dict[str, Any]:
    """Reserve, then charge: the charge fails until the ``payments-up-<id>`` row exists."""
    DBOS.set_event("stage", "reserving")
    reserved = reserve_stock(order)
    DBOS.write_stream("log", f"reserved {reserved['reserved']}")
    DBOS.set_event("stage", "charging")
    receipt = charge_card(order)
    DBOS.set_event("stage", "done")
    return {"order": order["id"], "receipt": receipt}


def off_loop(action: Callable[[], Any]) -> Any:
    """Run ORM code on another thread: Playwright's sync API keeps an event loop in this one."""

    def run() -> Any:
        try:
            return action()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def order(number: int, items: list[str]) -> dict[str, Any]:
    return {"id": number, "items": items, "customer": f"customer-{number}@example.com"}


def history() -> None:
    """A few workflows in several states, and one that failed at its charge (order 1042)."""
    for number in (1038, 1039, 1040, 1041):
        SideEffect.objects.create(key=f"payments-up-{number}")
        with SetWorkflowID(f"order-{number}"):
            checkout_order(order(number, ["book", "lamp"]))
    with SetWorkflowID("order-1042"):
        handle = DBOS.start_workflow(checkout_order, order(1042, ["chair"]))
    with pytest.raises(RuntimeError):
        handle.get_result()
    SideEffect.objects.create(key="payments-up-1043")
    with SetWorkflowID("order-1043"), SetEnqueueOptions(delay_seconds=3600):
        orders.enqueue(checkout_order, order(1043, ["desk"]))
    DBOS.cancel_workflow("order-1043")
    with SetWorkflowID("order-1044"), SetEnqueueOptions(delay_seconds=3600):
        orders.enqueue(checkout_order, order(1044, ["mug"]))


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def reload_until(page: Any, text: str, timeout: float = 30.0) -> None:
    """Reload the page until ``text`` is in it (a workflow finishing on the worker)."""
    deadline = time.monotonic() + timeout
    while text not in page.content():
        assert time.monotonic() < deadline, f"{text!r} did not appear on {page.url}"
        page.wait_for_timeout(200)
        page.reload()


@pytest.mark.django_db(transaction=True)
def test_an_operator_fixes_a_failed_workflow_and_re_runs_it_from_the_admin(dbos, live_server, browser, tmp_path,
                                                                        django_user_model):  # fmt: skip
    off_loop(lambda: django_user_model.objects.create_superuser("operator", "operator@example.com", "a-long-password"))
    off_loop(history)
    shots = Path(os.environ.get("DBOS_SCREENSHOT_DIR") or tmp_path)
    page = browser.new_page(viewport={"width": 1440, "height": 900})

    page.goto(f"{live_server.url}/admin/login/?next=/admin/dbos_django/workflow/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "a-long-password")
    page.click("input[type=submit]")
    page.wait_for_selector("#result_list")
    assert "order-1042" in page.inner_text("#result_list")
    page.click("#toggle-nav-sidebar")  # more room for the columns
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "workflows-list.png"))

    # The failed workflow's page: its steps, the failed charge, what it published.
    page.click("#result_list a:text-is('order-1042')")
    steps = page.inner_text("#dbos-steps")
    assert "reserve_stock" in steps and "charge_card error" in steps and "<pickled " in steps
    assert "charging" in page.inner_text("#dbos-events")
    page.screenshot(path=str(shots / "workflow-detail.png"), full_page=True)

    # The payment provider is back: fork the workflow from its failed step (the form's default).
    off_loop(lambda: SideEffect.objects.create(key="payments-up-1042"))
    page.click("a.dbos-op-fork")
    assert page.is_checked("input[name=start_step][value='5']")
    page.click("input[type=submit][value^='Yes, fork']")
    assert "Forked 1 workflow from step 5" in page.inner_text("ul.messagelist")
    reload_until(page, 'dbos-status-success">SUCCESS')
    assert "ch_1042" in page.inner_text("fieldset:has-text('Inputs and outcome')")
    assert "order-1042" in page.inner_text("#dbos-relatives")  # forked from it

    # A cancelled order, resumed from the list: select it, choose the action, confirm.
    page.goto(f"{live_server.url}/admin/dbos_django/workflow/?status__exact=CANCELLED")
    page.check("#result_list input[name=_selected_action][value='order-1043']")
    page.select_option("select[name=action]", "resume_selected")
    page.click("button[name=index]")
    assert "order-1043" in page.inner_text(".dbos-confirm")
    page.click("input[type=submit][value='Yes, resume']")
    assert "Resumed 1 workflow" in page.inner_text("ul.messagelist")
    page.goto(f"{live_server.url}/admin/dbos_django/workflow/order-1043/change/")
    reload_until(page, 'dbos-status-success">SUCCESS')
