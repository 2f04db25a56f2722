"""Solara's browser assets, put where its server looks for them, for machines offline.

Solara's page loads Vue, Vuetify and fonts from a CDN through the server's own
proxy cache. On a machine that cannot reach the CDN (CI here), the same files
come from the npm registry with ``npm pack`` and go into that cache, once.
The packages are read from Solara's own page template, so an upgrade of Solara
asks for the versions it needs.

Run ``python -m diffusion_sim.app.assets`` to fetch them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

_PACKAGE = re.compile(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@[\d.]+)/")


def required_packages() -> list[str]:
    """The npm packages (``name@version``) Solara's page template loads from its CDN."""
    import solara.server
    import solara.server.settings as settings

    template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
    found = set(_PACKAGE.findall(template.read_text(encoding="utf-8")))
    fontawesome = settings.assets.fontawesome_path.strip("/").split("/")[0]
    if settings.assets.fontawesome_enabled and "@" in fontawesome:
        found.add(fontawesome)
    return sorted(found)


def cache_dir() -> Path:
    """Where Solara's server looks for proxied CDN files."""
    import solara.server.settings as settings

    return Path(settings.assets.proxy_cache_dir)


def missing_packages(folder: Path | None = None) -> list[str]:
    folder = cache_dir() if folder is None else folder
    return [p for p in required_packages() if not (folder / p / "package.json").is_file()]


def ensure_browser_assets(folder: Path | None = None) -> list[str]:
    """Fetch the missing packages with ``npm pack`` into Solara's cache; return those fetched.

    Raises
    ------
    RuntimeError
        If a package is missing and npm is not installed or cannot fetch it.
    """
    folder = cache_dir() if folder is None else folder
    missing = missing_packages(folder)
    if not missing:
        return []
    if shutil.which("npm") is None:
        raise RuntimeError(
            f"Solara's browser assets {missing} are not cached in {folder} and npm is not "
            "installed to fetch them (online, Solara's server fetches them itself)"
        )
    for package in missing:
        npm_pack(package, folder)
    return missing


def npm_pack(package: str, folder: Path) -> Path:
    """Fetch one npm package (``name@version``) with ``npm pack`` into ``folder/<package>``.

    Returns the package's folder. Also used by the tests to fetch axe-core for
    the accessibility audit (tests/test_accessibility.py).

    Raises
    ------
    RuntimeError
        If npm is not installed or cannot fetch the package.
    """
    target = folder / package
    if (target / "package.json").is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is not installed to fetch {package} into {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [npm, "pack", package, "--silent", "--pack-destination", tmp],
            capture_output=True,
            text=True,
            check=False,
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or not tarballs:
            raise RuntimeError(f"npm pack {package} failed: {done.stderr.strip()[-500:]}")
        staging = folder / f".{package.replace('/', '_')}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        with tarfile.open(tarballs[0]) as archive:
            archive.extractall(staging, filter="data")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        (staging / "package").rename(target)
        shutil.rmtree(staging, ignore_errors=True)
    return target


if __name__ == "__main__":
    fetched = ensure_browser_assets()
    print(f"fetched {fetched} into {cache_dir()}" if fetched else f"all present in {cache_dir()}")
    sys.exit(0)
