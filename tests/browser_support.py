"""What the browser tests share: a real dashboard server, Debian's chromium, waits on conditions.

Used by test_dashboard_browser.py and test_accessibility.py; nothing here
sleeps for a fixed time except while polling for the server's port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
SIZES = {"projector": (1024, 768), "full-hd": (1920, 1080)}
"""The screens the dashboard must fit: a classroom projector and a desktop monitor."""

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


def chromium_context(playwright, profile: Path, **options):
    """Debian's chromium, headless, with its own profile folder (close it when done)."""
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        headless=True,
        args=LAUNCH_ARGS,
        viewport={"width": 1400, "height": 1000},
        **options,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dashboard_server(folder: Path) -> Iterator[dict]:
    """``python -m diffusion_sim dashboard small.toml`` in ``folder`` on a free port."""
    from diffusion_sim.app.assets import ensure_browser_assets

    try:
        ensure_browser_assets()  # Solara's JS/CSS from npm when the CDN is out of reach
    except RuntimeError as exc:  # no npm: Solara's server fetches them itself when online
        warnings.warn(str(exc), stacklevel=1)
    scenario = folder / "small.toml"
    scenario.write_text(SMALL_SCENARIO, encoding="utf-8")
    port = free_port()
    log_path = folder / "server.log"
    with log_path.open("w") as log:
        command = [sys.executable, "-m", "diffusion_sim", "dashboard", str(scenario)]
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(log_path.read_text())
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    time.sleep(0.5)
            else:
                raise RuntimeError("dashboard did not start in 120 s")
            yield {"url": f"http://127.0.0.1:{port}/", "folder": folder, "log": log_path}
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def step_text(page) -> str:
    return page.locator(".ds-step").inner_text()


def click_step(page, times: int) -> None:
    """Click Step and wait until the counter changed, ``times`` times."""
    for _ in range(times):
        before = step_text(page)
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_function(
            "before => document.querySelector('.ds-step').innerText !== before", arg=before
        )


def open_tab(page, title: str) -> None:
    """Select a tab and wait until its content is the one shown."""
    page.get_by_role("tab", name=title).click()
    page.locator(f".ds-tab-{title.lower()}").wait_for()
