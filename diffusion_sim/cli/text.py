"""What the command line prints: run summaries, ensemble summaries, progress bars."""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    """A tqdm bar whose clock starts after the first step.

    The first step of a run includes set-up and loading the compiled loops; timed
    with the rest, it made the first ETA nonsense (minutes for a run of seconds).
    So the bar itself is made at the first step, counting it as done.
    """

    def __init__(self, total: int, label: str, unit: str, initial: int, hide: bool) -> None:
        self.options = {"total": total, "desc": label, "unit": unit, "disable": hide}
        self.done = initial
        self.bar: Any = None

    def step(self, *_: Any) -> None:
        self.update(1)

    def update(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)
            return
        from tqdm.auto import tqdm

        # delay: no bar at all for runs that finish within a couple of seconds.
        self.bar = tqdm(
            initial=self.done + n, delay=1.5, leave=False, file=sys.stderr, **self.options
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def progress_bar(
    total: int, label: str, unit: str = "step", initial: int = 0, hide: bool = False
) -> Progress:
    return Progress(total, label, unit, initial, hide)


RUNGS = ("leaders", "followers", "laggards")


def _share(value: float) -> str:
    """A share as a percentage; NaN (a rung with no cities) as 'undefined'."""
    return "undefined" if value != value else f"{value:.1%}"


def format_window(values: dict[str, float], says: str) -> str:
    """Every outcome of one run in a window, by its registry label and unit."""
    from diffusion_sim.record.outcomes import kind_of, label_of, unit_of

    lines = [f"  outcomes {says}:"]
    for name, value in values.items():
        if value != value:
            text = "not reached" if kind_of(name) == "time_to" else "undefined"
        elif kind_of(name) in ("share", "inequality"):
            text = f"{value:+.3f}" if "change" in says else f"{value:.3f}"
        else:
            text = f"{value:+g}" if "change" in says else f"{value:g}"
        lines.append(f"  {label_of(name):<44} {text} ({unit_of(name)})")
    return "\n".join(lines)


def format_summary(summary: dict[str, Any], unit: str) -> str:
    channels = ", ".join(f"{k} {v}" for k, v in summary["adopters_by_channel"].items())
    governments = ", ".join(f"{k} {v}" for k, v in summary["governments_adopted"].items()) or "none"
    t50 = summary["time_to_50pct"]
    t50_text = "not reached" if t50 != t50 else f"{t50:.0f} {unit}s"
    return "\n".join(
        [
            f"  share of cities adopted      {summary['share_cities']:.1%}",
            f"  share of population covered  {summary['share_population']:.1%}",
            "  leaders / followers / laggards  "
            + " / ".join(_share(summary[f"share_{rung}"]) for rung in RUNGS),
            f"  time to 50% of cities        {t50_text}",
            f"  adopters by channel          {channels}",
            f"  abandonments                 {summary['abandonments']:g}"
            + (f", preemptions {summary['preemptions']:g}" if "preemptions" in summary else ""),
            f"  governments adopted          {governments}",
        ]
    )


def print_ensemble_summary(table, say=print, horizon: float | None = None) -> None:
    """Mean and 5-95% range of the headline shares; times as Kaplan-Meier medians.

    A time some replicates never reach is censored at ``horizon`` (default: the
    table's ``steps``), never averaged over the replicates that got there.
    """
    from diffusion_sim.record.survival import time_to_level

    say(f"  over {len(table)} replicates: mean (5%-95%)")
    for column in ("share_cities", "share_population"):
        values = table[column].dropna()
        say(
            f"  {column:<28} {values.mean():.3f} "
            f"({values.quantile(0.05):.3f}-{values.quantile(0.95):.3f})"
        )
    end = horizon if horizon is not None else float(table["steps"].max())
    got = time_to_level(table["time_to_50pct"].to_numpy(dtype=float), end)
    never = f"; never reached in {round(got.never * got.n)} of {got.n}" if got.never else ""
    if got.median == float("inf"):
        say(f"  time_to_50pct (median)       > {end:g}: fewer than half got there{never}")
    else:
        say(
            f"  time_to_50pct (median)       {got.median:g} "
            f"[{got.low:g}-{got.high:g}, 95% Kaplan-Meier]{never}"
        )
