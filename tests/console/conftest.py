"""A headless Chromium (Debian's `chromium`, which `./hub test` installs) driven by Playwright against the hub
the other fixtures serve. Playwright's own browser downloads are never used: `executable_path` names the
system browser. The hub's public URL in tests (https://hub.test, where OAuth redirects point) is routed back
to the loopback hub, as a reverse proxy would."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PUBLIC_BASE

AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("chromium is not installed: ./hub test installs Debian's package (apt-get install chromium)")
    return found


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


def _to_loopback(api: str) -> Any:
    def handle(route: Any) -> None:
        route.fulfill(status=302, headers={"Location": route.request.url.replace(PUBLIC_BASE, api)})

    return handle


@pytest.fixture
def page(browser: Any, api: str) -> Iterator[Any]:
    context = browser.new_context(base_url=api, locale="en-GB", viewport={"width": 1200, "height": 900})
    context.route(f"{PUBLIC_BASE}/**", _to_loopback(api))
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def axe_page(browser: Any, api: str) -> Iterator[Any]:
    """A page whose CSP is bypassed so axe-core can be injected (the console's own scripts never need it)."""
    context = browser.new_context(base_url=api, bypass_csp=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def serious_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
