"""``estimate --compare-calibration FOLDER``: the channel shares beside a calibration's.

The two answer different questions, so they may differ without either being
wrong: ``calibrate`` fits the aggregate curve and reports the channels of the
*simulated* adoptions of its posterior (90% interval over particles), every city
of the world included; ``estimate`` fits each observed adoption's timing and
reports the channels of the *observed, matched* adoptions given their exposure
(95% interval from the fit). A channel whose two intervals do not overlap is a
contradiction a researcher must resolve (different parameters, a different world
seed, or a channel the curve alone cannot identify), so it is warned about.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from diffusion_sim.errors import InputError

EXPLANATION = (
    "calibrate's shares are of its simulated adoptions (the posterior's 90% interval, fitted "
    "to the aggregate curve); estimate's are of the observed matched adoptions (95%, fitted "
    "to each city's date): they answer different questions and can differ"
)


def read_calibration(folder: str | Path) -> dict[str, tuple[float, float, float]]:
    """Per channel: (share, low, high) from a calibration folder's manifest."""
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        raise InputError(
            f"--compare-calibration {folder}: no manifest.json, so not a finished calibrate "
            "results folder"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(f"--compare-calibration {folder}: manifest.json is not JSON") from None
    posterior = (manifest.get("posterior") or {}).get("channel_shares_90")
    point = manifest.get("channel_shares")
    if not isinstance(point, dict):
        raise InputError(
            f"--compare-calibration {folder}: its manifest has no 'channel_shares'; give a "
            "folder written by diffusion-sim calibrate"
        )
    shares = {}
    for name, value in point.items():
        if posterior and name in posterior:
            p = posterior[name]
            shares[name] = (float(p["median"]), float(p["low"]), float(p["high"]))
        else:  # a point calibration: its best fit only
            shares[name] = (float(value), float(value), float(value))
    return shares


def compare(shares: pd.DataFrame, calibration: dict[str, tuple[float, float, float]]):
    """The comparison's lines and a warning per channel whose intervals do not overlap."""
    lines = ["", "Channel shares beside the calibration (" + EXPLANATION + "):"]
    warnings = []
    channels = shares[shares["kind"] == "channel"].set_index("name")
    for name, (share, low, high) in calibration.items():
        if name not in channels.index:
            continue
        row = channels.loc[name]
        lines.append(
            f"  {name:<13} calibrate {share:.1%} [{low:.1%}, {high:.1%}]   estimate "
            f"{row['share']:.1%} [{row['lower95']:.1%}, {row['upper95']:.1%}]"
        )
        if high < row["lower95"] or low > row["upper95"]:
            warnings.append(
                f"the {name} share differs between calibrate ({share:.1%} [{low:.1%}, "
                f"{high:.1%}]) and estimate ({row['share']:.1%} [{row['lower95']:.1%}, "
                f"{row['upper95']:.1%}]) beyond both intervals"
            )
    return lines, warnings
