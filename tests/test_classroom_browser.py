"""The classroom parts of the dashboard in a real browser (Debian's chromium, Playwright).

Files a student downloads land on the browser's side (Playwright's downloads,
not the server's folder); a link with the settings reopens the page with
them; the Learn tab keeps its world across tabs and shows its progress.
Skipped only when chromium or Playwright is missing (CI installs both).
"""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

import diffusion_sim as ds
from tests.browser_support import (
    CHROMIUM,
    TIMEOUT_MS,
    chromium_context,
    click_step,
    dashboard_server,
    open_tab,
    step_text,
)

if not CHROMIUM.is_file():
    pytest.skip(
        f"chromium is not installed at {CHROMIUM} (apt-get install chromium)",
        allow_module_level=True,
    )
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with dashboard_server(tmp_path_factory.mktemp("dashboard")) as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright_api.sync_playwright() as p:
        context = chromium_context(p, profile, accept_downloads=True)
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


def download(page, label: str, folder) -> bytes:
    """Click a download button and return the file the browser saved."""
    with page.expect_download() as info:
        page.get_by_role("button", name=label).click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path.read_bytes()


def test_a_student_downloads_the_tables_the_chart_and_a_scenario_that_reruns(page, tmp_path):
    click_step(page, 5)
    open_tab(page, "Export")
    series = pd.read_csv(io.BytesIO(download(page, "Timeseries (CSV)", tmp_path)))
    assert series["step"].tolist() == list(range(6))
    assert download(page, "Chart (PNG)", tmp_path)[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"</svg>" in download(page, "Chart (SVG)", tmp_path)[-100:]
    toml = download(page, "Scenario (TOML)", tmp_path).decode()
    (path,) = tmp_path.glob("*.toml")
    assert f"diffusion-sim run {path.name}" in toml
    rerun = ds.simulate(ds.load_scenario(path))  # the file alone fixes the run
    first = rerun.timeseries.head(6).reset_index(drop=True)
    pd.testing.assert_frame_equal(series, first, check_dtype=False, check_exact=False, atol=1e-12)


def test_a_link_reopens_the_dashboard_with_the_same_settings(page):
    page.locator(".ds-switch-horizontal input").click()
    page.get_by_text("run reset: horizontal switched off").wait_for()
    seed = page.locator(".ds-seed input")
    seed.fill("4242")
    seed.press("Enter")
    page.get_by_text("run reset: seed 4242").wait_for()
    open_tab(page, "Export")
    href = page.locator("a.ds-settings-link").get_attribute("href")
    assert re.fullmatch(r"\?scenario=small&seed=4242&engine=agents&on=vertical,hierarchical", href)
    page.locator("a.ds-settings-link").click()  # a new page load, a new session
    page.get_by_text("opened from a link: small, seed 4242").wait_for()
    assert page.locator(".ds-seed input").input_value() == "4242"
    assert not page.locator(".ds-switch-horizontal input").is_checked()
    assert page.locator(".ds-switch-vertical input").is_checked()
    assert step_text(page) == "Step 0 / 40"


def test_the_learn_tab_keeps_its_world_and_shows_progress(page):
    open_tab(page, "Learn")
    menu = page.locator(".ds-learn-world")
    assert "classroom (built in)" in menu.inner_text()  # the lesson's world by default
    page.get_by_role("button", name="Show the demonstration").click()
    page.get_by_text(re.compile(r"running the demonstration: \d+ of 84 runs done")).wait_for()
    page.locator("img.ds-demo").wait_for()
    assert "all 4 of the lesson's claims" in page.locator(".ds-learn-verdict").inner_text()
    menu.click()
    page.get_by_role("option", name="classroom", exact=True).click()
    page.get_by_role("button", name="Open it in the live view").click()
    page.get_by_text("opened classroom").wait_for()
    open_tab(page, "Learn")
    assert "classroom" in page.locator(".ds-learn-world").inner_text()
    assert "built in" not in page.locator(".ds-learn-world").inner_text()
