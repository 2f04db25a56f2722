"""How long one step and its redraw take in the dashboard, measured in a real browser.

Starts ``diffusion-sim dashboard`` on a free localhost port, opens the page in
Debian's chromium with Playwright, and for each world clicks Step and waits
until the browser shows the new step counter and a new map and curves image:
the time from click to both pictures updated is what a user waits. Worlds:
the largest scenario available in scenarios/ (the real world when installed,
else the 5,000-city synthetic one) and the classroom world.

Usage::

    python benchmarks/dashboard.py [--steps 10] [--scenario NAME ...]

Prints one line per world: cities, engine, median and worst click-to-redraw
time, and the server-side step time for comparison.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def largest_scenario() -> str:
    """The catalog scenario with the most cities (real worlds counted after building)."""
    import diffusion_sim as ds
    from diffusion_sim.app.session import cached_world, scenario_catalog

    best, best_n = "embedded", 0
    for key, path in scenario_catalog().items():
        try:
            scenario = ds.load_scenario(path)
            n = (
                cached_world(scenario, scenario.run.seed).n_cities
                if scenario.world.generator == "real"
                else scenario.world.n_cities
            )
        except Exception:  # a scenario whose data is not installed is skipped
            continue
        if n > best_n:
            best, best_n = key, n
    return best


def start_server(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "diffusion_sim", "dashboard", "--port", str(port)],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError("the dashboard did not start within 120 s")


def measure(page, key: str, steps: int) -> dict:
    """Open a scenario in the page, then time Step clicks until step text and images change."""
    page.locator(".ds-scenario").click()
    page.get_by_role("option", name=key, exact=True).click()
    page.get_by_text(f"opened {key}").wait_for()
    page.locator("img.ds-map").wait_for()
    cities = page.get_by_text(f"opened {key}").inner_text().split(": ")[1].split(" cities")[0]
    engine = page.locator(".ds-engine").inner_text().split("\n")[-1]
    times = []
    for _ in range(steps):
        before = page.evaluate(
            "() => [document.querySelector('.ds-step').innerText,"
            " document.querySelector('img.ds-map').src.length,"
            " document.querySelector('img.ds-curves').src]"
        )
        started = time.perf_counter()
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_function(
            """before => {
                const step = document.querySelector('.ds-step').innerText;
                const map = document.querySelector('img.ds-map');
                const curves = document.querySelector('img.ds-curves');
                return step !== before[0] && curves.src !== before[2] && map.complete;
            }""",
            arg=before,
            timeout=120_000,
        )
        times.append(time.perf_counter() - started)
    return {"scenario": key, "cities": cities, "engine": engine, "times": times}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="steps timed per world")
    parser.add_argument("--scenario", action="append", help="catalog keys (default: see above)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from diffusion_sim.app.assets import ensure_browser_assets
    from diffusion_sim.app.session import scenario_catalog

    ensure_browser_assets()
    classroom = "classroom" if "classroom" in scenario_catalog() else "classroom (built in)"
    keys = args.scenario or [largest_scenario(), classroom]
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_server(Path(tmp))
        try:
            with sync_playwright() as p:
                context = p.chromium.launch_persistent_context(
                    str(Path(tmp) / "profile"),
                    executable_path=CHROMIUM,
                    headless=True,
                    args=LAUNCH_ARGS,
                    viewport={"width": 1400, "height": 1000},
                )
                page = context.new_page()
                page.set_default_timeout(120_000)
                page.goto(url)
                page.locator(".ds-step").wait_for()
                print(f"{'scenario':<24}{'cities':>8}  {'engine':<11}{'median s':>9}{'worst s':>9}")
                for key in keys:
                    row = measure(page, key, args.steps)
                    times = row["times"]
                    print(
                        f"{row['scenario']:<24}{row['cities']:>8}  {row['engine']:<11}"
                        f"{statistics.median(times):>9.3f}{max(times):>9.3f}"
                    )
                context.close()
        finally:
            process.terminate()
            process.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
