"""The dashboard in a real browser: Debian's chromium driven by Playwright.

One real server (``python -m diffusion_sim dashboard``) runs for the module on
a free localhost port, started in a temporary folder so exports land there;
each test opens its own page (a fresh Solara session). Skipped only when
chromium or Playwright is missing (CI installs both).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000
"""Generous: two shared cores; these wait for events, they do not measure time."""

if not CHROMIUM.is_file():
    pytest.skip(
        f"chromium is not installed at {CHROMIUM} (apt-get install chromium)",
        allow_module_level=True,
    )
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytest.importorskip("solara", reason="pip install 'diffusion_sim[dashboard]'")

# A small scenario named at start: 300 cities, so the page opens quickly.
SMALL_SCENARIO = """
# A small world for the browser tests.
name = "small"

[world]
generator = "synthetic"
seed = 3
n_cities = 300
n_countries = 4
regions_per_country = 2

[networks.club]
rule = "exclusive"
size = 12
lobbies = true

[mechanisms.hierarchical]
government_rate = 0.02

[run]
steps = 40
seed = 5
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from diffusion_sim.app.assets import ensure_browser_assets

    try:
        ensure_browser_assets()  # Solara's JS/CSS from npm when the CDN is out of reach
    except RuntimeError as exc:  # no npm: Solara's server fetches them itself when online
        warnings.warn(str(exc), stacklevel=1)
    folder = tmp_path_factory.mktemp("dashboard")
    scenario = folder / "small.toml"
    scenario.write_text(SMALL_SCENARIO, encoding="utf-8")
    port = free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "diffusion_sim", "dashboard", str(scenario), "--port", str(port)],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((folder / "server.log").read_text())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    else:
        process.terminate()
        raise RuntimeError("dashboard did not start in 90 s")
    yield {"url": f"http://127.0.0.1:{port}/", "folder": folder}
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=LAUNCH_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
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


def step_text(page) -> str:
    return page.locator(".ds-step").inner_text()


def click_step(page, times: int) -> None:
    for _ in range(times):
        before = step_text(page)
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_function(
            "before => document.querySelector('.ds-step').innerText !== before", arg=before
        )


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
    page.get_by_text("-3 is out of range").wait_for()
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
