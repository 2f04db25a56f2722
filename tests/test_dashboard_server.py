"""The dashboard's server console: quiet on page loads (no browser needed)."""

from __future__ import annotations

import urllib.request

import pytest

from tests.browser_support import dashboard_server


def test_page_loads_print_no_cookie_warning(tmp_path):
    """Solara warned about its session cookie (about 15 lines) on every load over plain http
    on 127.0.0.1; the dashboard silences that one warning (server.quiet_cookie_warning)."""
    pytest.importorskip("solara")
    with dashboard_server(tmp_path) as server:
        for _ in range(4):
            with urllib.request.urlopen(server["url"], timeout=120) as response:
                assert response.status == 200
                assert "set-cookie" in {k.lower() for k in response.headers}  # a session
        log = server["log"].read_text()
    assert "diffusion-sim dashboard on" in log  # the log is the server's console
    assert "samesite" not in log.lower() and "Warning" not in log, log
