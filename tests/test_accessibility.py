"""An accessibility audit of every tab of the dashboard with axe-core, in the real chromium.

axe-core comes from the npm registry with ``npm pack`` into a cache folder
(as Solara's own assets do, diffusion_sim.app.assets), and its ``axe.min.js``
is injected into the served page. No serious or critical violation is
allowed on any tab, at the projector's size.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import (
    CHROMIUM,
    LAUNCH_ARGS,
    SIZES,
    TIMEOUT_MS,
    click_step,
    dashboard_server,
    open_tab,
)

AXE = "axe-core@4.10.3"
BUSY = (
    "() => ![...document.querySelectorAll('.v-progress-linear--active')]"
    ".some(e => getComputedStyle(e).visibility !== 'hidden')"
)
"""Solara's busy bar is showing (an unlabelled progressbar while the server renders)."""
TABS = ("Run", "Parameters", "Governments", "Compare", "Learn", "Export")

if not CHROMIUM.is_file():
    pytest.skip(f"chromium is not installed at {CHROMIUM}", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytest.importorskip("solara", reason="pip install solara (a dependency of diffusion_sim)")


@pytest.fixture(scope="module")
def axe_script() -> str:
    """axe.min.js, fetched once into ~/.cache/diffusion_sim/npm (or $DIFFUSION_SIM_CACHE/npm)."""
    from diffusion_sim.app.assets import npm_pack

    root = Path(os.environ.get("DIFFUSION_SIM_CACHE") or Path.home() / ".cache" / "diffusion_sim")
    try:
        folder = npm_pack(AXE, root / "npm")
    except RuntimeError as exc:
        pytest.skip(f"axe-core is not available: {exc}")
    return (folder / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    with (
        dashboard_server(tmp_path_factory.mktemp("a11y")) as server,
        playwright_api.sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        width, height = SIZES["projector"]
        page = browser.new_page(viewport={"width": width, "height": height})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(server["url"])
        page.locator(".ds-step").wait_for()
        page.locator("img.ds-map").wait_for()
        yield page
        browser.close()


def serious_violations(page, script: str) -> list[str]:
    """axe's serious and critical violations on the page as it is now, one line each."""
    page.wait_for_function(BUSY)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=script)
    results = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("tab", TABS)
def test_no_serious_accessibility_violations(page, axe_script, tab):
    open_tab(page, tab)
    if tab == "Run":
        click_step(page, 1)
        page.locator("img.ds-curves").wait_for()
    elif tab == "Learn":
        page.get_by_role("button", name="Show the demonstration").click()
        page.locator("table.ds-table").wait_for()
    elif tab == "Governments":
        page.locator(".ds-gov-summary").first.wait_for()
    assert serious_violations(page, axe_script) == []


def test_a_progress_bar_that_appears_gets_an_accessible_name(page):
    """Solara's busy bar comes and goes while the server works: it is named whenever it shows."""
    page.evaluate(
        "() => { const bar = document.createElement('div');"
        " bar.setAttribute('role', 'progressbar'); bar.id = 'ds-test-bar';"
        " document.body.appendChild(bar); }"
    )
    page.wait_for_function(
        "() => document.getElementById('ds-test-bar').getAttribute('aria-label') === 'Working'"
    )
