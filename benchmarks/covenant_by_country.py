"""Where the Covenant's signatories are, against where the model puts them (by 2014 and 2023).

    nice python benchmarks/covenant_by_country.py [--set KEY=VALUE ...]

Counts the JRC signatories with at least ``world.min_population`` inhabitants per
country (raw rows, not matched to world cities, so a country can exceed its world
cities) beside the world's cities per country and the model's adopters per country
at the same dates, the mean of 3 runs of eu_covenant at the given values (default:
the 2008-2014 point fit of benchmarks/forecast_covenant.py). It measures whether the
model's pool of cities is where the data's is, and prints each year's signatories per
world city not yet signed in Italy + Spain and in the rest of the world.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "covenant_of_mayors_signatories_2024.csv"
FIT = {
    "mechanisms.innovation.rate": 0.00931701,
    "mechanisms.horizontal.strength": 0.000724469,
    "mechanisms.vertical.top_down_rate": 0.00482259,
}


def main() -> int:
    import diffusion_sim as ds
    from diffusion_sim.cli.args import parse_sets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    scenario = ds.load_scenario(ROOT / "scenarios" / "eu_covenant.toml").with_overrides(
        {**FIT, "world.seed": 2019, **parse_sets(args.set)}
    )
    rows = pd.read_csv(args.data)
    population = pd.to_numeric(rows["population_adhesion"], errors="coerce")
    rows = rows[population >= scenario.world.min_population]
    year = pd.to_datetime(rows["date_of_adhesion"]).dt.year
    data = pd.DataFrame(
        {
            "data_2014": rows[year <= 2014].groupby("country_name").size(),
            "data_2023": rows[year <= 2023].groupby("country_name").size(),
        }
    )
    world = ds.build_world(scenario, seed=2019)
    country = np.asarray(world.country_names)[world.country]
    runs = []
    for seed in range(3):
        step = ds.simulate(scenario, seed=seed, world=world).cities["first_adoption_step"]
        frame = pd.DataFrame({"country": country, "step": step.to_numpy()})
        runs.append(
            frame.groupby("country")["step"].agg(
                model_2014=lambda s: int(((s >= 0) & (s <= 83)).sum()),
                model_2023=lambda s: int(((s >= 0) & (s <= 191)).sum()),
            )
        )
    model = sum(runs) / len(runs)
    table = data.join(model, how="outer").join(pd.Series(country).value_counts().rename("world"))
    table = table.fillna(0).sort_values("data_2023", ascending=False).head(12)
    print(table.round(0).astype(int).to_string())
    print(f"{world.n_cities} world cities; mean of 3 runs at {FIT | parse_sets(args.set)}")
    print(pools_by_year(rows, year, pd.Series(country).value_counts()))
    return 0


def pools_by_year(rows: pd.DataFrame, year: pd.Series, cities: pd.Series) -> str:
    """Signatories a year, and per city not yet signed, in Italy + Spain and in the rest."""
    italy_spain = rows["country_name"].isin(["Italy", "Spain"]).to_numpy()
    lines = ["signatories a year / per remaining world city (raw rows over world cities):"]
    for name, mask, n in [
        ("Italy + Spain", italy_spain, cities[["Italy", "Spain"]].sum()),
        ("rest", ~italy_spain, cities.drop(["Italy", "Spain"]).sum()),
    ]:
        per_year = year[mask].value_counts().sort_index()
        remaining = n - per_year.cumsum().shift(fill_value=0)
        cells = [
            f"{y} {c} / {c / r:.3f}"
            for y, c, r in zip(per_year.index, per_year, remaining, strict=True)
        ]
        lines.append(f"  {name} ({n} cities): " + ", ".join(cells))
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
