"""The dashboard in a real browser: Debian's chromium driven by Playwright.

One real server (``python -m diffusion_sim dashboard``) runs for the module on
a free localhost port, started in a temporary folder so exports land there;
each test opens its own page (a fresh Solara session). Skipped only when
chromium or Playwright is missing (CI installs both).
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests.browser_support import (
    CHROMIUM,
    SIZES,
    TIMEOUT_MS,
    chromium_context,
    click_step,
    dashboard_server,
    step_text,
)

if not CHROMIUM.is_file():
    pytest.skip(
        f"chromium is not installed at {CHROMIUM} (apt-get install chromium)",
        allow_module_level=True,
    )
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytest.importorskip("solara", reason="pip install solara (a dependency of diffusion_sim)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with dashboard_server(tmp_path_factory.mktemp("dashboard")) as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright_api.sync_playwright() as p:
        context = chromium_context(p, profile)
        yield context
        context.close()


@pytest.fixture
def page(server, browser):
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server["url"])
    page.locator(".ds-step").wait_for()
    yield page
    page.close()


def test_opens_the_scenario_named_at_start(page):
    assert step_text(page) == "Step 0 / 40"
    assert "small" in page.locator(".ds-scenario").inner_text()
    page.locator("img.ds-map").wait_for()  # waits until visible
    page.locator("img.ds-curves").wait_for()


def test_pick_a_scenario_and_step_five_times(page, tmp_path):
    page.locator(".ds-scenario").click()
    page.get_by_role("option", name="horizontal", exact=True).click()
    page.get_by_text("opened horizontal").wait_for()
    page.get_by_text("Step 0 / 120").wait_for()
    adopters = page.locator(".ds-adopters").inner_text()
    curve = page.locator("img.ds-curves").get_attribute("src")
    click_step(page, 5)
    assert step_text(page) == "Step 5 / 120"
    assert page.locator(".ds-adopters").inner_text() != adopters
    assert page.locator("img.ds-curves").get_attribute("src") != curve
    page.screenshot(path=tmp_path / "stepped.png", full_page=True)
    assert (tmp_path / "stepped.png").stat().st_size > 10_000


def test_switching_a_mechanism_off_resets_the_run(page):
    click_step(page, 3)
    assert step_text(page) == "Step 3 / 40"
    switch = page.locator(".ds-switch-horizontal input")
    assert switch.is_checked()
    switch.click()
    page.get_by_text("run reset: horizontal switched off").wait_for()
    assert step_text(page) == "Step 0 / 40"
    assert not page.locator(".ds-switch-horizontal input").is_checked()
    page.get_by_role("button", name="Play").click()  # play runs on by itself until paused
    page.wait_for_function(
        "() => /^Step ([3-9]|[1-9][0-9]) /.test(document.querySelector('.ds-step').innerText)"
    )
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    paused_at = step_text(page)
    page.wait_for_timeout(1_500)
    assert step_text(page) == paused_at


def test_learn_demonstration(page, tmp_path):
    page.get_by_role("tab", name="Learn").click()
    page.get_by_role("button", name="Show the demonstration").click()
    page.locator("img.ds-demo").wait_for()
    body = page.inner_text("body")
    for kind in ("horizontal", "vertical", "hierarchical", "embedded"):
        assert kind in body
    assert "leaders" in body and "laggards" in body
    # The table's headers are cells of their own, not one run-together string
    # ("leadersfollowerslaggardsall cities").
    page.locator("table.ds-table").first.wait_for()
    headers = page.eval_on_selector(
        "table.ds-table", "t => [...t.querySelectorAll('th')].map(th => th.innerText.trim())"
    )
    assert {"leaders", "followers", "laggards", "all cities"} <= set(headers), headers
    assert not any("leadersfollowers" in h.replace(" ", "") for h in headers), headers
    page.screenshot(path=tmp_path / "learn.png", full_page=True)
    assert (tmp_path / "learn.png").stat().st_size > 10_000


def test_bad_input_gives_an_inline_message_and_the_page_keeps_working(page, tmp_path):
    page.get_by_role("tab", name="Parameters").click()
    strength = page.locator(".ds-param-mechanisms-horizontal-strength input")
    strength.fill("2")
    strength.press("Enter")
    page.get_by_text("2 is out of range: allowed is a number ≥ 0 and ≤ 1").wait_for()
    strength.fill("lots")
    strength.press("Enter")
    page.get_by_text("'lots' is not a number").wait_for()
    seed = page.locator(".ds-seed input")
    seed.fill("-3")
    seed.press("Enter")
    page.get_by_text("seed must be an integer 0..2**63-1, not '-3'").wait_for()
    seed.fill("1e99")
    seed.press("Enter")
    page.get_by_text("seed must be an integer 0..2**63-1, not '1e99'").wait_for()
    page.screenshot(path=tmp_path / "bad-input.png", full_page=True)
    body = page.inner_text("body")
    assert "Traceback" not in body and "Error:" not in body
    click_step(page, 1)  # the page still works, with the last valid values
    assert step_text(page) == "Step 1 / 40"
    strength.fill("0.3")
    strength.press("Enter")
    page.get_by_text("run reset: mechanisms.horizontal.strength = 0.3").wait_for()


def test_export_sanitizes_the_name_and_writes_results(page, server):
    click_step(page, 2)
    page.get_by_role("tab", name="Export").click()
    name = page.get_by_label("Run name")
    name.fill("../../outside me")
    page.get_by_role("button", name="Save to results/").click()
    page.locator(".ds-export-ok").wait_for()
    folder = server["folder"] / "results" / "outside-me"
    assert (folder / "manifest.json").is_file()
    import pandas as pd

    assert len(pd.read_parquet(folder / "timeseries.parquet")) == 3  # steps 0, 1, 2
    assert not (server["folder"].parent / "outside me").exists()
    # Saving again under the same name never replaces the first: it goes to outside-me-2.
    manifest = (folder / "manifest.json").read_bytes()
    page.get_by_role("button", name="Save to results/").click()
    page.get_by_text("outside-me/ already exists").wait_for()
    assert "outside-me-2/" in page.locator(".ds-export-ok").inner_text()
    assert (folder / "manifest.json").read_bytes() == manifest
    assert (server["folder"] / "results" / "outside-me-2" / "manifest.json").is_file()


def test_click_a_city_to_inspect_it_and_see_governments(page):
    image = page.locator("img.ds-map")
    image.wait_for()
    box = image.bounding_box()
    inspector = page.locator(".ds-inspector")
    for fx, fy in [(0.5, 0.5), (0.4, 0.5), (0.6, 0.5), (0.5, 0.4), (0.5, 0.6), (0.3, 0.3)]:
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        try:
            inspector.wait_for(timeout=5_000)
            break
        except playwright_api.TimeoutError:
            continue
    assert "population" in inspector.inner_text()
    assert "governments:" in inspector.inner_text()
    page.get_by_role("tab", name="Governments").click()
    page.locator(".ds-gov-summary").first.wait_for()
    assert "region:" in page.inner_text("body")


def test_compare_two_settings_with_bands(page, tmp_path):
    page.get_by_role("tab", name="Compare").click()
    replicates = page.get_by_label("Replicates")
    replicates.fill("0")
    page.get_by_role("button", name="Run comparison").click()
    page.get_by_text("0 is out of range").first.wait_for()
    replicates.fill("2")
    page.get_by_role("button", name="Run comparison").click()
    page.locator("img.ds-compare").wait_for()
    page.screenshot(path=tmp_path / "compare.png", full_page=True)


ON_SCREEN = """selector => {
    const el = document.querySelector(selector);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    const inside = r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0
        && r.right <= window.innerWidth && r.bottom <= window.innerHeight;
    const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return inside && top !== null && (el === top || el.contains(top) || top.contains(el));
}"""
"""Whether the element is inside the viewport and not covered at its centre."""


def fully_on_screen(page, selector: str) -> bool:
    """Whether the element comes to be inside the viewport, uncovered, within 30 s.

    Waits rather than looks once: on a busy machine the page may still be laying
    out (or Solara's busy bar still showing) when the images have loaded.
    """
    try:
        page.wait_for_function(ON_SCREEN, arg=selector, timeout=30_000)
    except playwright_api.TimeoutError:
        return False
    return True


@pytest.mark.parametrize("size", list(SIZES), ids=list(SIZES))
def test_step_map_and_curves_are_on_screen_together(page, size):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    page.locator("img.ds-map").wait_for()
    page.locator("img.ds-curves").wait_for()
    page.wait_for_function(
        "() => ['img.ds-map', 'img.ds-curves'].every(s => document.querySelector(s).complete)"
    )
    for selector in (".ds-step-button", "img.ds-map", "img.ds-curves"):
        assert fully_on_screen(page, selector), f"{selector} is not fully visible at {size}"
    assert page.evaluate("document.querySelector('img.ds-map').clientWidth") >= 400
    click_step(page, 2)  # usable without opening anything
    assert step_text(page) == "Step 2 / 40"
    assert "Speed: 4 steps per second" in page.locator(".ds-speed").inner_text()


def red_pixels(png: bytes) -> int:
    """How many pixels of a screenshot have the red of the selection ring."""
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(((r > 180) & (g < 60) & (b < 60)).sum())


def test_a_clicked_city_is_highlighted(page):
    image = page.locator("img.ds-map")
    image.wait_for()
    before = image.screenshot()
    assert red_pixels(before) == 0
    box = image.bounding_box()
    inspector = page.locator(".ds-inspector")
    for fx, fy in [(0.5, 0.5), (0.4, 0.5), (0.6, 0.5), (0.5, 0.4), (0.5, 0.6), (0.3, 0.3)]:
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        try:
            inspector.wait_for(timeout=5_000)
            break
        except playwright_api.TimeoutError:
            continue
    name = inspector.locator("strong").first.inner_text()
    page.wait_for_function(
        "name => document.querySelector('img.ds-map').alt.endsWith('highlighted: ' + name)",
        arg=name,
    )
    assert red_pixels(image.screenshot()) > 30
