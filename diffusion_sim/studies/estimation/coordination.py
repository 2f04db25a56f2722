"""Coordinators as world structure, and P(vertical) checked against the held-out field.

With ``coordinators=True`` (``estimate --coordinators``) on the JRC file and a real
world, the file's rows are split in two, once, before any fit:

- *structure rows*: signatories that are not in the world's universe (population
  at adhesion below ``world.min_population`` or unknown, or a country the world
  lacks). Their ``coordinator_name``, coordinates and dates build the
  coordinators' territories and start dates (:mod:`diffusion_sim.world.coordinators`);
- *held-out rows*: the signatories in the universe, the ones matched to world
  cities and fitted. Their dates are the data of the likelihood; their
  ``coordinator_name`` is never read by the fit. It is kept beside each adoption
  (``coordinated`` in the adoptions table) only to score P(vertical) afterwards.

:func:`auc_table` scores P(vertical) against that flag: overall, within
countries (pairs of one coordinated and one uncoordinated adoption of the same
country, pooled: the stratified AUC) and per country.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

from diffusion_sim.errors import InputError
from diffusion_sim.scenario import Scenario
from diffusion_sim.studies.calibration.data import PERIODS, Adoptions
from diffusion_sim.world import World
from diffusion_sim.world.coordinators import with_coordinators

COLUMNS = ("coordinator_name", "organisation_latitude", "organisation_longitude")


def universe(table: pd.DataFrame, world: World, floor: int) -> np.ndarray:
    """Rows a world city could be: big enough and in one of the world's countries."""
    codes = set(world.meta.get("country_codes", ()))
    return ((table["population"] >= floor) & table["country"].isin(codes)).to_numpy()


def structure_rows(adoptions: Adoptions, world: World, floor: int) -> pd.DataFrame:
    """The rows outside the world's universe, with coordinator, coordinates and date."""
    if adoptions.format != "jrc" or world.meta.get("generator") != "real":
        raise InputError(
            "--coordinators: needs the JRC Covenant of Mayors file (its coordinator_name "
            "and coordinates) and a real world (world.generator = 'real')",
            source=adoptions.source,
        )
    raw = pd.read_csv(adoptions.source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    columns = {str(c).strip().lower(): c for c in raw.columns}
    missing = [c for c in COLUMNS if c not in columns]
    table = adoptions.table
    rows = table["line"].to_numpy() - 2  # the file's row of each adoption (header: line 1)
    if missing or len(rows) == 0 or rows.max() >= len(raw):
        raise InputError(
            f"--coordinators: the file lacks the column(s) {', '.join(missing) or '(rows)'}; "
            "the JRC file has coordinator_name, organisation_latitude, organisation_longitude",
            source=adoptions.source,
        )
    raw = raw.iloc[rows].reset_index(drop=True)  # only the rows read (e.g. up to a date)
    keep = ~universe(table, world, floor)
    name = raw[columns["coordinator_name"]].str.strip()
    return pd.DataFrame(
        {
            "country": table["country"].to_numpy()[keep],
            "lat": _number(raw[columns["organisation_latitude"]])[keep],
            "lon": _number(raw[columns["organisation_longitude"]])[keep],
            "coordinator": name.where(~name.isin(["", "-"]), "").to_numpy()[keep],
            "date": table["date"].to_numpy()[keep],
        }
    ).reset_index(drop=True)


def _number(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def coordinator_world(
    adoptions: Adoptions, world: World, floor: int
) -> tuple[World, dict[str, pd.Timestamp], str]:
    """The world with coordinators as regional governments, their starts, and a note."""
    rows = structure_rows(adoptions, world, floor)
    built, starts = with_coordinators(world, rows)
    info = built.meta["coordinators"]
    note = (
        f"coordinators from {len(rows)} signatories outside the world's universe (their "
        f"coordinator_name; {int((rows['coordinator'] != '').sum())} coordinated): "
        f"{info['governments']} coordinators as regional governments over {info['cities']} "
        f"world cities ({info['rule']}); the coordinator field of the fitted signatories is "
        "held out"
    )
    return built, starts, note


def supportive_coordinators(
    scenario: Scenario, world: World, adoptions: Adoptions, first: pd.Period
) -> tuple[Scenario, World, str]:
    """For a simulation: the coordinator world, each coordinator supportive from its start.

    ``adoptions`` are the rows the fit may know (a forecast passes those up to
    ``--train-until``), so no coordinator of later years, nor any later row of a
    known one, shapes the world. A coordinator turns supportive (a stance event)
    at the step of its first structure row (step 0 if before ``first``), so the
    top-down channel reaches its cities from the month it began bringing them in.
    """
    built, starts, note = coordinator_world(adoptions, world, scenario.world.min_population)
    freq = PERIODS[scenario.run.step_unit]
    events = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)["events"]
    for name, date in sorted(starts.items(), key=lambda item: (item[1], item[0])):
        step = max(0, int(pd.Period(date, freq=freq).ordinal - first.ordinal))
        events.append({"step": step, "kind": "stance", "government": name, "stance": "supportive"})
    return (
        scenario.with_overrides({"events": events}),
        built,
        f"{note}; each supportive from its first signatory (rows dated up to "
        f"{adoptions.table['date'].max():%Y-%m-%d} read)",
    )


def government_steps(
    gov_names: tuple[str, ...], starts: dict[str, pd.Timestamp], first: pd.Period, freq: str
) -> tuple[np.ndarray, np.ndarray]:
    """Each coordinator has the policy from the step before its first municipality joined.

    A government that adopts at step s counts from s + 1, so its support is in
    force at the step its first municipality signed.
    """
    index = {name: k for k, name in enumerate(gov_names)}
    govs = [index[name] for name in starts if name in index]
    periods = pd.PeriodIndex([starts[name] for name in starts if name in index], freq=freq)
    steps = np.asarray(periods.asi8, dtype=np.int64) - first.ordinal - 1
    return np.asarray(govs, dtype=np.int64), np.maximum(steps, 0)


def roc_auc_score(y: np.ndarray, score: np.ndarray) -> float:
    """The area under the ROC curve: P(score of a positive > a negative's), ties half.

    The Mann-Whitney U of the positives over the product of the two counts (scipy),
    which is the AUC exactly (benchmarks/vertical_validation.py checks it against
    scikit-learn's, which the package does not depend on).
    """
    y = np.asarray(y, dtype=bool)
    score = np.asarray(score, dtype=float)
    u = mannwhitneyu(score[y], score[~y], alternative="two-sided").statistic
    return float(u / (y.sum() * (~y).sum()))


def auc_table(adoptions: pd.DataFrame, min_country: int = 30) -> pd.DataFrame:
    """AUC of ``p_vertical`` for the held-out ``coordinated`` flag: overall, within, by country.

    ``adoptions`` needs ``p_vertical``, ``coordinated`` and ``country``. A country
    is listed when it has at least ``min_country`` adoptions of both kinds together
    and at least one of each; "within countries" pools every such pair of one
    country (the stratified AUC, each country weighted by its pairs).
    """
    frame = adoptions.dropna(subset=["coordinated", "p_vertical"])
    y = frame["coordinated"].astype(bool).to_numpy()
    score = frame["p_vertical"].to_numpy(dtype=float)
    rows = []
    if 0 < y.sum() < len(y):
        rows.append(_row("overall", y, score, roc_auc_score(y, score)))
    pairs = weighted = 0.0
    counted = np.zeros(len(frame), dtype=bool)
    country = frame["country"].to_numpy()
    for code in sorted(set(country)):
        mask = country == code
        yc, sc = y[mask], score[mask]
        positives = int(yc.sum())
        if positives == 0 or positives == len(yc):
            continue
        auc = roc_auc_score(yc, sc)
        n_pairs = positives * (len(yc) - positives)
        pairs += n_pairs
        weighted += auc * n_pairs
        counted |= mask
        if len(yc) >= min_country:
            rows.append(_row(str(code), yc, sc, auc))
    if pairs:
        within = _row("within countries", y[counted], score[counted], weighted / pairs)
        rows.insert(1 if rows and rows[0]["group"] == "overall" else 0, within)
    columns = ["group", "adoptions", "coordinated", "mean_p_vertical"]
    columns += ["mean_p_vertical_coordinated", "auc"]
    return pd.DataFrame(rows, columns=columns)


def _row(group: str, y: np.ndarray, score: np.ndarray, auc: float) -> dict:
    return {
        "group": group,
        "adoptions": len(y),
        "coordinated": float(y.mean()),
        "mean_p_vertical": float(score.mean()),
        "mean_p_vertical_coordinated": float(score[y].mean()) if y.any() else np.nan,
        "auc": float(auc),
    }
