"""Analysing a finished sweep: sensitivity indices, main effects and PRIM boxes.

- Sobol (first-order and total) or Morris (mu*, sigma) indices per outcome, via
  SALib, when the design was drawn for them; replicates are averaged per point.
- Main-effect plots for every design: an outcome's mean across each parameter.
- Scenario discovery with PRIM (EMA Workbench's implementation): which ranges of
  the parameters make a question such as ``share_small >= 0.8`` true.

Everything lands in the results folder: PNG figures, CSV tables and ``report.md``.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.errors import InputError
from diffusion_sim.sweep.runner import DESIGN, MANIFEST, PLAN, RESULTS
from diffusion_sim.sweep.spec import parse_condition

MAX_MAIN_EFFECT_FIGURES = 8
_OPS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


@dataclass
class SweepData:
    """A finished sweep read back: its plan, design and results."""

    folder: Path
    plan: dict[str, Any]
    manifest: dict[str, Any]
    design: pd.DataFrame
    results: pd.DataFrame

    @property
    def columns(self) -> list[str]:
        return [p["column"] for p in self.plan["parameters"]]

    @property
    def outcomes(self) -> list[str]:
        return list(self.plan["spec"]["outcomes"])

    @property
    def ok(self) -> pd.DataFrame:
        return self.results[self.results["status"] == "ok"]


@dataclass
class Analysis:
    """What :func:`analyze` found, and the files it wrote."""

    folder: Path
    indices: pd.DataFrame | None = None
    boxes: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    report: Path | None = None


def load(folder: str | Path) -> SweepData:
    """Read a finished sweep's folder (an unfinished one is an input error)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("no such sweep results folder", source=str(folder))
    if not (folder / PLAN).is_file():
        raise InputError("not a sweep results folder (no sweep.json)", source=str(folder))
    if not (folder / MANIFEST).is_file():
        raise InputError(
            "the sweep is unfinished (no manifest.json); run the same sweep command again "
            "to finish it",
            source=str(folder),
        )
    return SweepData(
        folder=folder,
        plan=json.loads((folder / PLAN).read_text()),
        manifest=json.loads((folder / MANIFEST).read_text()),
        design=pd.read_parquet(folder / DESIGN),
        results=pd.read_parquet(folder / RESULTS),
    )


def censored(data: SweepData, frame: pd.DataFrame) -> pd.DataFrame:
    """Times never reached (NaN) set to the horizon + 1, so runs that never get there count.

    Sensitivity indices need a number for every point; a time that is never
    reached is at least one step past the end of the run.
    """
    frame = frame.copy()
    steps_key = next(
        (p["column"] for p in data.plan["parameters"] if p["key"] == "run.steps"), None
    )
    horizon = (
        frame[steps_key].astype(float)
        if steps_key
        else pd.Series(float(data.plan["base_scenario"]["run"]["steps"]), index=frame.index)
    )
    for name in data.outcomes:
        if name.startswith("time_to_"):
            frame[name] = frame[name].fillna(horizon + 1)
    return frame


def point_means(data: SweepData) -> pd.DataFrame:
    """Each outcome averaged over a point's successful replicates (NaN: none succeeded)."""
    ok = censored(data, data.ok)
    means = ok.groupby("point")[data.outcomes].mean()
    return means.reindex(range(data.plan["points"]))


def sensitivity(data: SweepData, seed: int = 0) -> tuple[pd.DataFrame | None, list[str]]:
    """Sobol or Morris indices per outcome, if the design allows (else None and a note)."""
    method = data.plan["spec"]["design"]["method"]
    notes: list[str] = []
    if method not in ("sobol", "morris"):
        notes.append(
            f"The design is '{method}': variance-based indices need a 'sobol' (or 'morris') "
            "design; see the main-effect plots instead."
        )
        return None, notes
    problem = data.plan["problem"]
    means = point_means(data)
    x = data.design[[c for c in data.design.columns if c.startswith("_x")]].to_numpy()
    rows = []
    for name in data.outcomes:
        y = means[name].to_numpy(dtype=np.float64)
        if np.isnan(y).any():
            failed = int((~means.index.isin(data.ok["point"])).sum())
            why = (
                f"{failed} point(s) have no successful run"
                if failed
                else f"the outcome is undefined (NaN) at {int(np.isnan(y).sum())} point(s)"
            )
            notes.append(f"`{name}`: no indices, {why}.")
            continue
        if np.ptp(y) == 0:
            notes.append(f"`{name}`: no indices, the outcome is the same at every point.")
            continue
        rng = np.random.default_rng(seed)
        if method == "sobol":
            from SALib.analyze import sobol

            second = data.plan["spec"]["design"]["second_order"]
            si = sobol.analyze(problem, y, calc_second_order=second, seed=rng)
            for j, param in enumerate(problem["names"]):
                rows.append(
                    {
                        "outcome": name,
                        "parameter": param,
                        "S1": si["S1"][j],
                        "S1_conf": si["S1_conf"][j],
                        "ST": si["ST"][j],
                        "ST_conf": si["ST_conf"][j],
                    }
                )
        else:
            from SALib.analyze import morris

            levels = data.plan["spec"]["design"]["levels"]
            si = morris.analyze(problem, x, y, num_levels=levels, seed=rng)
            for j, param in enumerate(problem["names"]):
                rows.append(
                    {
                        "outcome": name,
                        "parameter": param,
                        "mu_star": si["mu_star"][j],
                        "mu_star_conf": si["mu_star_conf"][j],
                        "sigma": si["sigma"][j],
                        "mu": si["mu"][j],
                    }
                )
    return (pd.DataFrame(rows) if rows else None), notes


# ------------------------------------------------------------------ figures


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "question"


def plot_indices(indices: pd.DataFrame, path: Path) -> Path:
    """A heat map per index (outcomes x parameters): which parameters matter for what."""
    from matplotlib.figure import Figure

    measures = ["S1", "ST"] if "ST" in indices else ["mu_star", "sigma"]
    params = list(dict.fromkeys(indices["parameter"]))
    outs = list(dict.fromkeys(indices["outcome"]))
    fig = Figure(
        figsize=(2.0 + 1.1 * len(params) * len(measures), 1.2 + 0.35 * len(outs)),
        layout="constrained",
    )
    axes = fig.subplots(1, len(measures), squeeze=False)[0]
    for ax, measure in zip(axes, measures, strict=True):
        grid = indices.pivot(index="outcome", columns="parameter", values=measure)
        grid = grid.loc[outs, params]
        values = grid.to_numpy(dtype=float)
        if measure in ("S1", "ST"):
            image = ax.imshow(values, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        else:
            image = ax.imshow(values, cmap="viridis", aspect="auto")
        for (i, j), value in np.ndenumerate(values):
            shade = "k" if value > 0.6 * np.nanmax(values) else "w"
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color=shade)
        ax.set_xticks(range(len(params)), params, rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(len(outs)), outs, fontsize=8)
        ax.set_title(measure)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.savefig(path, dpi=110)
    return path


def plot_main_effects(data: SweepData, outcome: str, path: Path) -> Path:
    """The outcome's mean (and 5-95% band) across each parameter, one panel per parameter."""
    from matplotlib.figure import Figure

    ok = censored(data, data.ok)
    params = data.plan["parameters"]
    ncols = min(4, len(params))
    nrows = -(-len(params) // ncols)
    fig = Figure(figsize=(3.2 * ncols, 2.6 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, p in zip(axes, params, strict=False):
        column = ok[p["column"]]
        y = ok[outcome].astype(float)
        if p["kind"] == "values" or column.nunique() <= 10:
            groups = y.groupby(column.astype(str), sort=True)
            labels = list(groups.groups)
            stats = groups.agg(["mean", lambda s: s.quantile(0.05), lambda s: s.quantile(0.95)])
            stats.columns = ["mean", "lo", "hi"]
            pos = np.arange(len(labels))
            ax.errorbar(
                pos,
                stats["mean"],
                yerr=[stats["mean"] - stats["lo"], stats["hi"] - stats["mean"]],
                fmt="o",
                capsize=3,
            )
            ax.set_xticks(pos, labels, fontsize=8)
        else:
            bins = pd.qcut(column.astype(float), q=min(10, column.nunique()), duplicates="drop")
            grouped = pd.DataFrame({"x": column.astype(float), "y": y}).groupby(bins, observed=True)
            stats = grouped.agg(
                x=("x", "mean"),
                mean=("y", "mean"),
                lo=("y", lambda s: s.quantile(0.05)),
                hi=("y", lambda s: s.quantile(0.95)),
            )
            ax.scatter(column.astype(float), y, s=4, alpha=0.25, color="grey")
            ax.fill_between(stats["x"], stats["lo"], stats["hi"], alpha=0.25)
            ax.plot(stats["x"], stats["mean"], marker="o")
        ax.set_xlabel(p["column"], fontsize=8)
        ax.set_ylabel(outcome, fontsize=8)
    for ax in axes[len(params) :]:
        ax.set_visible(False)
    note = "; never reached = horizon + 1" if outcome.startswith("time_to_") else ""
    fig.suptitle(f"Main effects on {outcome} (mean and 5-95% of runs{note})", fontsize=10)
    fig.savefig(path, dpi=110)
    return path


# --------------------------------------------------------------------- PRIM


def condition_mask(frame: pd.DataFrame, condition: str) -> np.ndarray:
    """Where a condition holds (a time never reached, NaN, satisfies no comparison)."""
    mask = np.ones(len(frame), dtype=bool)
    for outcome, op, number in parse_condition(condition):
        values = frame[outcome].to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            mask &= _OPS[op](values, number) & ~np.isnan(values)
    return mask


def _prim_inputs(data: SweepData, frame: pd.DataFrame) -> pd.DataFrame:
    x = pd.DataFrame(index=range(len(frame)))
    for p in data.plan["parameters"]:
        column = frame[p["column"]].reset_index(drop=True)
        numeric = ("Float64", "float64", "Int64", "int64")
        if p["kind"] in ("float", "int") or str(column.dtype) in numeric:
            # Integers too go in as floats: EMA Workbench's peeling writes half-way
            # limits (7.5) into integer columns, which pandas 3 refuses.
            x[p["column"]] = column.astype(np.float64)
        else:
            x[p["column"]] = column.astype(str).astype("category")
    return x


def discover(data: SweepData, name: str, condition: str, threshold: float = 0.8) -> dict[str, Any]:
    """PRIM's best box for one question: the parameter ranges where it mostly holds.

    The box chosen is the one of highest coverage among those whose density
    reaches ``threshold`` (else the densest).
    """
    ok = data.ok.reset_index(drop=True)
    y = condition_mask(ok, condition)
    answer: dict[str, Any] = {
        "question": name,
        "condition": condition,
        "threshold": threshold,
        "runs": len(ok),
        "share_true": float(y.mean()) if len(y) else float("nan"),
    }
    if len(y) == 0 or y.all() or not y.any():
        answer["note"] = (
            "the condition never holds" if not y.any() else "the condition always holds"
        ) + " in this sweep, so there is no box to find"
        return answer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        finder = prim.Prim(_prim_inputs(data, ok), y, threshold=threshold)
        box = finder.find_box()
    trajectory = box.peeling_trajectory
    meets = trajectory[trajectory["density"] >= threshold]
    chosen = int(meets["coverage"].idxmax() if len(meets) else trajectory["density"].idxmax())
    # The box's limits against the initial box (not PrimBox.inspect, whose table
    # breaks on pandas 3 when a categorical parameter is restricted).
    stats = trajectory.loc[chosen]
    limits, initial = box.box_lims[chosen], finder.box_init
    restrictions = []
    for param in limits.columns:
        low, high = limits.loc[0, param], limits.loc[1, param]
        if isinstance(low, set | frozenset):
            if set(low) != set(initial.loc[0, param]):
                restrictions.append(f"`{param}` in {{{', '.join(sorted(map(str, low)))}}}")
        elif low > initial.loc[0, param] or high < initial.loc[1, param]:
            restrictions.append(f"{low:.4g} <= `{param}` <= {high:.4g}")
    if not restrictions:
        answer["note"] = (
            f"the condition already holds in {answer['share_true']:.0%} of all runs, at or "
            f"above the density threshold {threshold:.0%}: no restriction is needed (raise "
            "the threshold to ask for near-certainty)"
        )
    answer.update(
        {
            "box": chosen,
            "coverage": float(stats["coverage"]),
            "density": float(stats["density"]),
            "mass": float(stats["mass"]),
            "restrictions": restrictions,
            "trajectory": trajectory[["coverage", "density", "mass", "res_dim"]],
        }
    )
    return answer


def plot_tradeoff(answer: dict[str, Any], path: Path) -> Path:
    """PRIM's peeling trajectory: coverage against density, the chosen box ringed."""
    from matplotlib.figure import Figure

    trajectory = answer["trajectory"]
    fig = Figure(figsize=(5, 4), layout="constrained")
    ax = fig.subplots()
    points = ax.scatter(
        trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis"
    )
    chosen = trajectory.loc[answer["box"]]
    ax.scatter(
        [chosen["coverage"]], [chosen["density"]], s=160, facecolors="none", edgecolors="red"
    )
    ax.axhline(answer["threshold"], color="grey", linestyle=":")
    ax.set_xlabel("coverage (share of true runs inside the box)")
    ax.set_ylabel("density (share of the box's runs where true)")
    ax.set_title(answer["question"], fontsize=9)
    fig.colorbar(points, ax=ax, label="restricted parameters")
    fig.savefig(path, dpi=110)
    return path


# ------------------------------------------------------------------- report


def _table(frame: pd.DataFrame, digits: int = 3) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = [f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row]
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *body])


def analyze(
    folder: str | Path,
    *,
    questions: list[str] | None = None,
    threshold: float | None = None,
    seed: int = 0,
) -> Analysis:
    """Indices, main effects and PRIM boxes of a finished sweep, with ``report.md``.

    Parameters
    ----------
    folder : path
        A finished sweep's results folder.
    questions : list of str, optional
        Extra conditions for PRIM, e.g. ``["share_small >= 0.8"]``, beside the
        sweep file's ``[[questions]]``.
    threshold : float, optional
        PRIM's density threshold for the extra questions (default 0.8).
    seed : int
        Seed of the bootstrap confidence intervals.
    """
    data = load(folder)
    out = Analysis(folder=data.folder)
    for name in data.outcomes:
        if name not in data.results:
            raise InputError(f"results lack the outcome column {name!r}", source=str(folder))
    asked = [
        (q["name"], q["condition"], q["threshold"]) for q in data.plan["spec"].get("questions", [])
    ]
    for condition in questions or []:
        try:
            clauses = parse_condition(condition)
        except ValueError as exc:
            raise InputError(f"--question: {exc}") from None
        missing = [c[0] for c in clauses if c[0] not in data.outcomes]
        if missing:
            raise InputError(
                f"--question {condition!r}: outcome(s) {missing} were not recorded by this "
                f"sweep; recorded: {', '.join(data.outcomes)}"
            )
        asked.append((condition, condition, threshold or 0.8))

    out.indices, notes = sensitivity(data, seed=seed)
    out.notes.extend(notes)
    if out.indices is not None:
        out.indices.to_csv(data.folder / "sensitivity.csv", index=False)
        out.figures.append(plot_indices(out.indices, data.folder / "sensitivity.png"))

    if len(data.ok):
        chosen = list(dict.fromkeys([c[0] for _, cond, _ in asked for c in parse_condition(cond)]))
        chosen += [o for o in data.outcomes if o not in chosen]
        chosen = [o for o in chosen if data.ok[o].notna().any()]
        for name in chosen[:MAX_MAIN_EFFECT_FIGURES]:
            path = data.folder / f"main_effects_{name}.png"
            out.figures.append(plot_main_effects(data, name, path))
        if len(chosen) > MAX_MAIN_EFFECT_FIGURES:
            out.notes.append(
                f"Main-effect plots for the first {MAX_MAIN_EFFECT_FIGURES} outcomes only."
            )
    for name, condition, level in asked:
        answer = discover(data, name, condition, level)
        if "trajectory" in answer:
            path = data.folder / f"prim_{_slug(name)}.png"
            out.figures.append(plot_tradeoff(answer, path))
            answer["figure"] = path.name
        out.boxes.append(answer)
    if out.boxes:
        rows = [
            {k: v for k, v in b.items() if k not in ("trajectory",)}
            | {"restrictions": "; ".join(b.get("restrictions", []))}
            for b in out.boxes
        ]
        pd.DataFrame(rows).to_csv(data.folder / "prim_boxes.csv", index=False)
    out.report = write_report(data, out)
    return out


def write_report(data: SweepData, analysis: Analysis) -> Path:
    """A short Markdown report beside the figures."""
    plan, manifest = data.plan, data.manifest
    lines = [f"# Sweep `{plan['name']}`", ""]
    if plan.get("description"):
        lines += [plan["description"], ""]
    lines += [
        f"- design: {plan['spec']['design']['method']}, {plan['points']} points x "
        f"{plan['replicates']} replicate(s) = {plan['total_runs']} runs "
        f"(seed {plan['spec']['seed']})",
        f"- runs that succeeded: {manifest['runs_ok']}; failed: {manifest['runs_failed']}",
        f"- base scenario: `{plan['base_scenario'].get('name')}` "
        f"({plan['base_scenario']['world']['n_cities']} cities, "
        f"{plan['base_scenario']['run']['steps']} steps)",
        "",
        "## Parameters",
        "",
    ]
    rows = []
    for p, spec_p in zip(
        plan["parameters"],
        plan["spec"]["uncertainties"] + plan["spec"]["levers"],
        strict=True,
    ):
        role = "uncertainty" if p["column"] in plan["uncertainties"] else "lever"
        span = spec_p["range"] if spec_p.get("range") is not None else spec_p["values"]
        rows.append({"column": p["column"], "key": p["key"], "role": role, "range/values": span})
    lines += [_table(pd.DataFrame(rows)), ""]
    if manifest.get("errors"):
        lines += ["## Failed runs", ""]
        lines += [
            f"- {e['runs']} run(s): `{e['error'].splitlines()[-1].strip()}`"
            for e in manifest["errors"]
        ]
        lines += [""]
    lines += ["## Sensitivity", ""]
    if analysis.indices is not None:
        indices = analysis.indices
        key = "ST" if "ST" in indices else "mu_star"
        lines += [
            f"Indices per outcome (SALib; `{key}` ranks the parameters). "
            "Replicates are averaged per point; times never reached count as the horizon + 1.",
            "",
            _table(indices),
            "",
            "![sensitivity](sensitivity.png)",
            "",
        ]
    lines += [f"- {note}" for note in analysis.notes] + [""]
    lines += ["## Main effects", ""]
    lines += [f"![{p.stem}]({p.name})" for p in analysis.figures if p.stem.startswith("main_")]
    lines += ["", "## Scenario discovery (PRIM)", ""]
    if not analysis.boxes:
        lines += [
            "No questions: add [[questions]] to the sweep file or pass --question "
            "'share_small >= 0.8' to `diffusion-sim analyze`.",
            "",
        ]
    for box in analysis.boxes:
        lines += [
            f"### {box['question']}",
            "",
            f"Condition `{box['condition']}`: true in "
            f"{box['share_true']:.1%} of {box['runs']} successful runs.",
            "",
        ]
        if "note" in box:
            lines += [f"PRIM: {box['note']}.", ""]
        if "restrictions" not in box:
            continue
        limits = "; ".join(box["restrictions"]) or "(no restriction)"
        lines += [
            f"Box: {limits}.",
            "",
            f"Inside it the condition holds in {box['density']:.0%} of runs (density); it "
            f"holds {box['coverage']:.0%} of all runs where the condition is true (coverage); "
            f"it spans {box['mass']:.0%} of the runs (mass).",
            "",
            f"![PRIM trade-off]({box['figure']})",
            "",
        ]
    path = data.folder / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
