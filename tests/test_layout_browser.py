"""The page at a projector's, a monitor's and a phone's size, normal and in presenter mode.

Real chromium against a real dashboard server (tests/browser_support.py). At each size it
checks what a person would: nothing scrolls sideways; on the projector and the monitor the
map, the curves and the clicked city's story are in the window together; on the monitor the
curves use the width; on a phone the map is the full width, every tab is in view and the
controls are a drawer with a name; in presenter mode the charts' text is at least 18 CSS
pixels as shown (the picture's own text size x its displayed scale). axe-core finds no
violation of any impact at any size or mode. Nothing here measures time.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import CHROMIUM, LAUNCH_ARGS, TIMEOUT_MS, dashboard_server

SIZES = {"projector": (1024, 768), "full-hd": (1920, 1080), "phone": (390, 844)}
AXE = "axe-core@4.10.3"
CASES = [(size, big) for size in SIZES for big in (False, True)]
IDS = [f"{size}-{'presenter' if big else 'normal'}" for size, big in CASES]

if not CHROMIUM.is_file():
    pytest.skip(f"chromium is not installed at {CHROMIUM}", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytest.importorskip("solara", reason="pip install solara (a dependency of diffusion_sim)")

IN_VIEW = """selector => {
    const el = document.querySelector(selector);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0
        && r.right <= window.innerWidth + 0.5 && r.bottom <= window.innerHeight + 0.5;
}"""
SHOWN_TEXT_PX = """selector => {
    const img = document.querySelector(selector);
    const scale = Math.min(
        img.clientWidth / img.naturalWidth, img.clientHeight / img.naturalHeight);
    return parseFloat(img.dataset.textPx) * scale;
}"""
"""The smallest text of a chart as shown: its size in the picture x the picture's scale."""
SETTLED = """() => [...document.querySelectorAll('img.ds-map, img.ds-curves')].every(img => {
    const box = img.closest('.ds-box');
    return img.complete && img.naturalWidth > 0
        && img.dataset.drawnFor === box.clientWidth + 'x' + box.clientHeight;
})"""
"""Both pictures are drawn for the boxes they are shown in (the size was reported back)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with dashboard_server(tmp_path_factory.mktemp("layout")) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def axe_script() -> str:
    from diffusion_sim.app.assets import npm_pack

    root = Path(os.environ.get("DIFFUSION_SIM_CACHE") or Path.home() / ".cache" / "diffusion_sim")
    try:
        folder = npm_pack(AXE, root / "npm")
    except RuntimeError as exc:
        pytest.skip(f"axe-core is not available: {exc}")
    return (folder / "axe.min.js").read_text(encoding="utf-8")


def open_page(browser, server, size: str, big: bool):
    width, height = SIZES[size]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server["url"])
    page.locator(".ds-step").wait_for()
    page.locator("img.ds-map").wait_for(state="attached")
    if big:
        if size == "phone":
            page.get_by_role("button", name="Controls", exact=True).click()
        page.locator(".ds-presenter-switch input").click()
        page.locator(".ds-app.ds-presenter").wait_for(state="attached")
        if size == "phone":
            page.get_by_role("button", name="Close controls").first.click()
            page.locator(".ds-app.ds-drawer-open").wait_for(state="detached")
    page.wait_for_function(SETTLED)
    return page


def click_a_city(page) -> str:
    """Click the map until a city is picked; its name as the inspector shows it."""
    box = page.locator("img.ds-map").bounding_box()
    inspector = page.locator(".ds-inspector")
    for fx, fy in [(0.5, 0.5), (0.4, 0.5), (0.6, 0.5), (0.5, 0.4), (0.5, 0.6), (0.3, 0.3)]:
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        try:
            inspector.wait_for(timeout=5_000)
            break
        except playwright_api.TimeoutError:
            continue
    return inspector.locator("strong").first.inner_text()


@pytest.mark.parametrize(("size", "big"), CASES, ids=IDS)
def test_the_page_fits_the_screen(browser, server, size, big, tmp_path):
    page = open_page(browser, server, size, big)
    width, height = SIZES[size]
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    page.screenshot(path=tmp_path / f"{size}-{big}-opened.png")
    text = page.evaluate(SHOWN_TEXT_PX, "img.ds-curves")
    shown = page.evaluate(
        "() => [...document.querySelectorAll('img.ds-curves, img.ds-map')].map(i => [i.className,"
        " i.clientWidth, i.clientHeight, i.naturalWidth, i.naturalHeight, i.dataset.textPx])"
    )
    assert text >= (18 if big else 12), f"chart text {text:.1f} px at {size}: {shown}"
    step_px = float(
        page.evaluate("parseFloat(getComputedStyle(document.querySelector('.ds-step')).fontSize)")
    )
    assert step_px >= (18 if big else 15)
    curves = page.evaluate("document.querySelector('img.ds-curves').clientWidth")
    map_width = page.evaluate("document.querySelector('img.ds-map').clientWidth")
    if size == "phone":
        assert map_width >= 0.9 * width and curves >= 0.9 * width
        for tab in page.get_by_role("tab").all():  # every tab in view, none behind an arrow
            tab_box = tab.bounding_box()
            assert tab_box["x"] >= 0 and tab_box["x"] + tab_box["width"] <= width, tab.inner_text()
        assert not page.locator("#ds-controls").is_visible()
        button = page.get_by_role("button", name="Controls", exact=True)
        assert button.get_attribute("aria-expanded") == "false"
        button.click()
        drawer = page.get_by_role("complementary", name="Controls")
        drawer.wait_for()
        assert page.get_by_role("button", name="Step", exact=True).is_visible()
        page.screenshot(path=tmp_path / f"{size}-drawer.png")
    else:
        assert page.evaluate(IN_VIEW, "img.ds-map") and page.evaluate(IN_VIEW, "img.ds-curves")
        assert map_width >= 400
        if size == "full-hd":
            main = page.evaluate("document.querySelector('.ds-main').clientWidth")
            assert curves >= 0.9 * (main - 40), (curves, main)  # the width, not 600 px
        name = click_a_city(page)
        assert name
        page.wait_for_function(SETTLED)
        page.screenshot(path=tmp_path / f"{size}-{big}-clicked.png")
        assert page.evaluate(IN_VIEW, ".ds-inspector strong"), "the city's story is off screen"
        assert page.evaluate(IN_VIEW, "img.ds-map") and page.evaluate(IN_VIEW, "img.ds-curves")
        assert page.evaluate("document.documentElement.scrollHeight") <= height
    page.screenshot(path=tmp_path / f"{size}-{big}.png")
    page.close()


@pytest.mark.parametrize(("size", "big"), CASES, ids=IDS)
def test_no_accessibility_violation_of_any_impact(browser, server, axe_script, size, big):
    page = open_page(browser, server, size, big)
    page.add_script_tag(content=axe_script)
    violations = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
    )
    found = [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
    ]
    assert found == []
    page.close()


def test_the_comparison_is_readable_in_presenter_mode(browser, server, tmp_path):
    page = open_page(browser, server, "projector", True)
    page.get_by_role("tab", name="Compare").click()
    page.locator(".ds-tab-compare").wait_for()
    page.get_by_label("Replicates").fill("2")
    page.get_by_role("button", name="Run comparison").click()
    page.locator("img.ds-compare").wait_for()
    page.wait_for_function("() => document.querySelector('img.ds-compare').complete")
    text = page.evaluate(SHOWN_TEXT_PX, "img.ds-compare")
    assert text >= 18, f"comparison text {text:.1f} px"
    assert page.evaluate(IN_VIEW, "img.ds-compare")
    page.screenshot(path=tmp_path / "compare-presenter.png")
    page.close()


def test_the_demonstration_is_readable_in_presenter_mode(browser, server, axe_script, tmp_path):
    page = open_page(browser, server, "projector", True)
    page.get_by_role("tab", name="Learn").click()
    page.get_by_role("button", name="Show the demonstration").click()
    page.locator("img.ds-demo").wait_for(timeout=120_000)
    page.wait_for_function(
        """() => { const img = document.querySelector('img.ds-demo');
            const box = img && img.closest('.ds-box');
            return box && img.complete && img.naturalWidth > 0
                && img.dataset.drawnFor === box.clientWidth + 'x' + box.clientHeight; }"""
    )
    text = page.evaluate(SHOWN_TEXT_PX, "img.ds-demo")
    assert text >= 18, f"demonstration text {text:.1f} px"
    shown = page.evaluate("document.querySelector('img.ds-demo').clientWidth")
    main = page.evaluate("document.querySelector('.ds-main').clientWidth")
    assert shown >= 0.9 * (main - 40), (shown, main)  # the column's width, not a thumbnail
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES["projector"][0]
    page.screenshot(path=tmp_path / "demonstration-presenter.png", full_page=True)
    page.add_script_tag(content=axe_script)
    violations = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
    )
    found = [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
    ]
    assert found == []
    page.close()


def test_the_phone_drawer_keeps_focus_and_closes_on_escape(browser, server):
    page = open_page(browser, server, "phone", False)
    button = page.get_by_role("button", name="Controls", exact=True)
    button.click()
    drawer = page.get_by_role("complementary", name="Controls")
    drawer.wait_for()
    inside = "() => document.getElementById('ds-controls').contains(document.activeElement)"
    page.wait_for_function(inside)  # focus moved into the drawer
    for _ in range(40):  # more Tabs than the drawer has controls: focus never leaves it
        page.keyboard.press("Tab")
        assert page.evaluate(inside)
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(inside)
    page.keyboard.press("Escape")
    page.locator(".ds-app.ds-drawer-open").wait_for(state="detached")
    assert not page.locator("#ds-controls").is_visible()
    assert page.evaluate("document.activeElement.classList.contains('ds-drawer-button')")
    assert button.get_attribute("aria-expanded") == "false"
    page.close()
