"""Start the dashboard's Solara server (what ``diffusion-sim dashboard`` calls)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from diffusion_sim.errors import InputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def server_environment(scenario: str | Path | None) -> dict[str, str]:
    """Variables the page reads at start, and Solara's settings for a local, quiet server."""
    env = {
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # nothing leaves the machine
        "SOLARA_THEME_SHOW_BANNER": "False",
    }
    if scenario is not None:
        env["DIFFUSION_SIM_DASHBOARD_SCENARIO"] = str(Path(scenario).resolve())
    return env


SAMESITE_WARNING = r"Cookies with samesite=none require https"


def quiet_cookie_warning() -> None:
    """Silence Solara's per-page-load warning about its session cookie on plain http.

    Solara sets its session cookie with ``SameSite=None; Secure`` so that an app
    embedded in an iframe (e.g. on Hugging Face) keeps its session; that needs
    https, or the host name ``localhost``. Served over plain http on any other
    name (127.0.0.1, or a classroom machine's address with ``--host``), it falls
    back to ``SameSite=Lax`` and warns about it, 15 lines on every page load.
    Lax is exactly right here: the dashboard is a top-level page, never
    embedded. So the URL printed for the default host says ``localhost`` (no
    fallback at all), and this one warning, from that one module, is ignored;
    every other warning still shows.
    """
    import warnings

    warnings.filterwarnings(
        "ignore", message=SAMESITE_WARNING, category=UserWarning, module=r"solara\.server\."
    )


def browser_url(host: str, port: int) -> str:
    """The address to open: ``localhost`` for the loopback default (see quiet_cookie_warning)."""
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    return f"http://{shown}:{port}/"


def serve(
    scenario: str | Path | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> int:
    """Serve the dashboard until interrupted; localhost only unless ``host`` says otherwise.

    Parameters
    ----------
    scenario : path, optional
        A scenario file to offer first (beside the shipped ones); it is
        validated here, so a bad file fails before the server starts.
    """
    if scenario is not None:
        from diffusion_sim.scenario import load_scenario

        load_scenario(scenario)  # raises InputError with file, key and line
    os.environ.update(server_environment(scenario))  # before Solara reads its settings
    try:
        import solara  # noqa: F401
    except ImportError:
        raise InputError(
            "the dashboard needs solara: pip install solara (a dependency of diffusion_sim)"
        ) from None
    from diffusion_sim.app.assets import ensure_browser_assets, missing_packages

    if missing_packages():
        try:
            fetched = ensure_browser_assets()
            print(f"fetched Solara's browser assets: {', '.join(fetched)}", file=sys.stderr)
        except (RuntimeError, OSError) as exc:  # online, Solara's server fetches them itself
            print(f"note: {exc}", file=sys.stderr)
    from solara.__main__ import cli as solara_cli

    quiet_cookie_warning()
    print(f"diffusion-sim dashboard on {browser_url(host, port)} (Ctrl-C to stop)", file=sys.stderr)
    args = ["run", "diffusion_sim.app.page", "--host", host, "--port", str(port)]
    args += ["--production", "--no-open", "--log-level", "warning"]
    try:
        solara_cli(args, standalone_mode=False)
    except KeyboardInterrupt:
        pass
    return 0
