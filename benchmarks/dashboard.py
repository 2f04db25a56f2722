"""How fast the dashboard steps and plays, measured in a real browser.

Starts ``diffusion-sim dashboard`` on a free localhost port, opens the page in
Debian's chromium with Playwright, and for each world:

- clicks Step and waits until the browser shows the new step counter and a new
  map and curves image: the time from click to both pictures updated is what a
  user waits;
- presses Play at the slider's default (4 steps per second) for ``--play-seconds``
  and counts, in the page, the step counter's changes and the pictures shown:
  steps per second achieved against the 4 asked for. The same is measured on a
  second server started with DIFFUSION_SIM_PLAY_EVERY_STEP=1, the earlier play
  loop that drew every step however slow, and the ratio of the two is printed.

Worlds: the largest scenario available in scenarios/ (the real world when
installed, about 34,000 cities, else the 5,000-city synthetic one) and the
classroom world.

Usage::

    python benchmarks/dashboard.py [--steps 10] [--play-seconds 12] [--scenario NAME ...]

Prints one line per world and loop: cities, engine, median and worst
click-to-redraw time, steps and pictures per second while playing.
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


def start_server(folder: Path, every_step: bool = False) -> tuple[subprocess.Popen, str]:
    from diffusion_sim.app.play import EVERY_STEP_ENV

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), EVERY_STEP_ENV: "1" if every_step else "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "diffusion_sim", "dashboard", "--port", str(port)],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
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


def open_scenario(page, key: str) -> tuple[str, str]:
    """Open a scenario in the page; its number of cities and engine as the page shows them."""
    page.locator(".ds-scenario").click()
    page.get_by_role("option", name=key, exact=True).click()
    page.get_by_text(f"opened {key}").wait_for()
    page.locator("img.ds-map").wait_for()
    cities = page.get_by_text(f"opened {key}").inner_text().split(": ")[1].split(" cities")[0]
    engine = page.locator(".ds-engine").inner_text().split("\n")[-1]
    return cities, engine


def measure_steps(page, steps: int) -> list[float]:
    """Time Step clicks until the step text and both images changed."""
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
    return times


WATCH = """() => {
    window.dsSeen = [];
    window.dsWatch = setInterval(() => {
        const text = document.querySelector('.ds-step').innerText;
        const step = parseInt(text.split(' ')[1], 10);
        const last = window.dsSeen[window.dsSeen.length - 1];
        if (!last || last[1] !== step) window.dsSeen.push([performance.now(), step]);
    }, 20);
}"""
"""Records, in the page, when each new step counter appeared (one per picture shown)."""


def measure_play(page, seconds: float) -> tuple[float, float, str]:
    """Play at the default speed for ``seconds``: steps and pictures per second seen, the note."""
    page.evaluate(WATCH)
    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(seconds * 1000)
    note = (
        page.locator(".ds-play-note").inner_text() if page.locator(".ds-play-note").count() else ""
    )
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    seen = page.evaluate("() => { clearInterval(window.dsWatch); return window.dsSeen; }")
    seen = seen[1:]  # from the first picture after Play: the time to start is not playing
    if len(seen) < 2:
        return float("nan"), float("nan"), note
    span = (seen[-1][0] - seen[0][0]) / 1000
    return (seen[-1][1] - seen[0][1]) / span, (len(seen) - 1) / span, note


def measure(url: str, keys: list[str], steps: int, seconds: float, folder: Path) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(folder / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=LAUNCH_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(url)
        page.locator(".ds-step").wait_for()
        for key in keys:
            cities, engine = open_scenario(page, key)
            times = measure_steps(page, steps) if steps else [float("nan")]
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("Step 0 /").wait_for()
            played, pictures, note = measure_play(page, seconds)
            rows.append(
                {
                    "scenario": key,
                    "cities": cities,
                    "engine": engine,
                    "times": times,
                    "steps_per_s": played,
                    "pictures_per_s": pictures,
                    "note": note,
                }
            )
        context.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="Step clicks timed per world")
    parser.add_argument("--play-seconds", type=float, default=12.0, help="seconds of Play timed")
    parser.add_argument("--scenario", action="append", help="catalog keys (default: see above)")
    args = parser.parse_args(argv)
    from diffusion_sim.app.assets import ensure_browser_assets
    from diffusion_sim.app.session import scenario_catalog

    ensure_browser_assets()
    classroom = "classroom" if "classroom" in scenario_catalog() else "classroom (built in)"
    keys = args.scenario or [largest_scenario(), classroom]
    target = 4.0  # the speed slider's default (app/state.py)
    results = {}
    for loop, every_step in (("steps on the clock", False), ("every step drawn", True)):
        with tempfile.TemporaryDirectory() as tmp:
            process, url = start_server(Path(tmp), every_step=every_step)
            try:
                results[loop] = measure(url, keys, args.steps, args.play_seconds, Path(tmp))
            finally:
                process.terminate()
                process.wait(timeout=20)
    print(f"Play at {target:g} steps per second for {args.play_seconds:g} s, and Step clicks")
    print(
        f"{'loop':<20}{'scenario':<22}{'cities':>8}  {'engine':<11}{'step med s':>11}"
        f"{'worst s':>8}{'steps/s':>9}{'/target':>8}{'pictures/s':>11}"
    )
    for loop, rows in results.items():
        for row in rows:
            times = row["times"]
            print(
                f"{loop:<20}{row['scenario']:<22}{row['cities']:>8}  {row['engine']:<11}"
                f"{statistics.median(times):>11.3f}{max(times):>8.3f}"
                f"{row['steps_per_s']:>9.2f}{row['steps_per_s'] / target:>8.2f}"
                f"{row['pictures_per_s']:>11.2f}"
            )
    new, old = results["steps on the clock"], results["every step drawn"]
    for a, b in zip(new, old, strict=True):
        print(
            f"{a['scenario']}: steps per second on the clock / every step drawn = "
            f"{a['steps_per_s'] / b['steps_per_s']:.2f}; the page said: {a['note']!r}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
