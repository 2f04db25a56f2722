"""Analysing a finished sweep: sensitivity indices, main effects and PRIM boxes.

- Sobol (first-order and total) or Morris (mu*, sigma) indices per outcome, via
  SALib, when the design was drawn for them; replicates are averaged per point.
- Main-effect plots for every design: an outcome's mean across each parameter.
- Scenario discovery with PRIM (EMA Workbench's implementation): which ranges of
  the parameters make a question such as ``share_small >= 0.8`` true.
- For a grid: the outcomes of every combination with their intervals
  (:mod:`.combinations`), ``combinations.csv``.

Everything lands in the results folder: PNG figures, CSV tables and ``report.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.errors import InputError
from diffusion_sim.record.csv_cells import write_csv
from diffusion_sim.studies.sweep.combinations import combination_table, format_combinations
from diffusion_sim.studies.sweep.data import SweepData, load, point_means
from diffusion_sim.studies.sweep.discovery import discover
from diffusion_sim.studies.sweep.figures import (
    MAX_MAIN_EFFECT_FIGURES,
    plot_indices,
    plot_main_effects,
    plot_tradeoff,
    slug,
)
from diffusion_sim.studies.sweep.spec import parse_condition


@dataclass
class Analysis:
    """What :func:`analyze` found, and the files it wrote."""

    folder: Path
    indices: pd.DataFrame | None = None
    boxes: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    report: Path | None = None
    combinations: pd.DataFrame | None = None
    """A grid's outcomes per combination (:func:`.combinations.combination_table`)."""


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

    if data.plan["spec"]["design"]["method"] == "grid":
        out.combinations = combination_table(data)
        write_csv(out.combinations, data.folder / "combinations.csv", index=False)

    out.indices, notes = sensitivity(data, seed=seed)
    out.notes.extend(notes)
    if out.indices is not None:
        write_csv(out.indices, data.folder / "sensitivity.csv", index=False)
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
            path = data.folder / f"prim_{slug(name)}.png"
            out.figures.append(plot_tradeoff(answer, path))
            answer["figure"] = path.name
        out.boxes.append(answer)
    if out.boxes:
        rows = [
            {k: v for k, v in b.items() if k not in ("trajectory",)}
            | {"restrictions": "; ".join(b.get("restrictions", []))}
            for b in out.boxes
        ]
        write_csv(pd.DataFrame(rows), data.folder / "prim_boxes.csv", index=False)
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
    if analysis.combinations is not None:
        lines += [
            "## Outcomes per combination",
            "",
            "Mean over each combination's successful replicates [95% bootstrap interval]; "
            "a time to a level is the Kaplan-Meier median [95% interval] with the share of "
            "replicates that never got there. Every outcome is in `combinations.csv`.",
            "",
            "```",
            format_combinations(data, analysis.combinations),
            "```",
            "",
        ]
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
