"""Sweep files: validated like scenario files, with messages that say what to change."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from diffusion_sim.errors import InputError
from diffusion_sim.studies.sweep.design import problem, run_seed, sample
from diffusion_sim.studies.sweep.spec import load_sweep, sweep_from_dict
from tests.conftest import ROOT, SCENARIOS

GOOD = {
    "name": "t",
    "scenario": str(SCENARIOS / "embedded.toml"),
    "seed": 4,
    "constants": {"world.n_cities": 300, "run.steps": 10},
    "uncertainties": [{"key": "mechanisms.horizontal.thresholds.mean", "range": [0.1, 0.5]}],
    "levers": [
        {"key": "mechanisms.hierarchical.compliance_steps", "name": "steps", "range": [6, 48]},
        {"key": "governments.nation", "values": ["hostile", "supportive"]},
    ],
    "design": {"method": "lhs", "samples": 20},
}


def with_(**changes):
    data = {**GOOD, **changes}
    return sweep_from_dict(data)


def message(**changes) -> str:
    with pytest.raises(InputError) as info:
        with_(**changes)
    return str(info.value)


def test_a_good_sweep_resolves_its_base_and_parameter_kinds():
    sweep = with_()
    assert sweep.base.world.n_cities == 300 and sweep.base.run.steps == 10
    # The world seed is fixed so that every point shares a world (and worlds cache).
    assert sweep.base.world.seed is not None
    kinds = {p.column: p.kind for p in sweep.params}
    assert kinds == {
        "mechanisms.horizontal.thresholds.mean": "float",
        "steps": "int",
        "governments.nation": "values",
    }


def test_unknown_keys_are_named_with_a_suggestion():
    text = message(replicate=3)
    assert "key 'replicate'" in text and "did you mean 'replicates'" in text
    text = message(design={"method": "lhs", "samples": 5, "level": 3})
    assert "key 'design.level'" in text and "did you mean 'levels'" in text


def test_a_varied_key_the_scenario_lacks_is_refused_before_any_run():
    text = message(uncertainties=[{"key": "mechanisms.horizontal.strenght", "range": [0, 1]}])
    assert "'mechanisms.horizontal.strenght' is not a scenario key" in text
    assert "did you mean 'strength'" in text


def test_values_outside_the_scenarios_range_are_refused():
    text = message(uncertainties=[{"key": "mechanisms.vertical.deterrence", "range": [0, 2]}])
    assert "mechanisms.vertical.deterrence" in text and "less than or equal to 1" in text


def test_malformed_parameters_designs_and_outcomes():
    assert "low < high" in message(
        uncertainties=[{"key": "mechanisms.vertical.deterrence", "range": [0.5, 0.1]}]
    )
    assert "exactly one of 'range' or 'values'" in message(
        uncertainties=[{"key": "mechanisms.vertical.deterrence"}]
    )
    assert "needs 'samples'" in message(design={"method": "sobol"})
    assert "power of 2" in message(design={"method": "sobol", "samples": 100})
    assert "did you mean 'share_small'" in message(outcomes=["share_smal"])
    text = message(
        outcomes=["share_cities"],
        questions=[{"name": "q", "condition": "share_small >= 0.8"}],
    )
    assert "not recorded" in text
    assert "cannot read condition" in message(
        questions=[{"name": "q", "condition": "__import__('os')"}]
    )
    assert "takes str values: use 'values'" in message(
        uncertainties=[{"key": "mechanisms.horizontal.rule", "range": [0, 1]}]
    )


def test_cross_field_rules_are_left_to_the_runs():
    # laggard_cutoff 0.5 > leader_cutoff 0.42 fails only in combination: it is a
    # failing point recorded in the results, not a bad sweep file.
    sweep = with_(
        uncertainties=[{"key": "world.ladder.laggard_cutoff", "values": [0.2, 0.5]}],
        design={"method": "grid"},
    )
    assert len(sample(sweep)) == 2 * 2 * 5  # values x values x 5 levels of the int range


def test_designs_are_deterministic_and_respect_kinds():
    sweep = with_()
    first, again = sample(sweep), sample(sweep)
    np.testing.assert_array_equal(first.x, again.x)
    values = first.values
    assert values["steps"].between(6, 48).all()
    assert (values["steps"] == values["steps"].round()).all()
    assert set(values["governments.nation"]) == {"hostile", "supportive"}
    other = sample(with_(seed=5))
    assert not np.array_equal(first.x, other.x)
    assert problem(sweep.params)["bounds"][1] == [6.0, 49.0]


@pytest.mark.parametrize(
    ("method", "extra", "points"),
    [("sobol", {"samples": 8}, 8 * (3 + 2)), ("morris", {"samples": 4, "levels": 4}, 4 * 4)],
)
def test_salib_designs_have_their_sizes(method, extra, points):
    assert len(sample(with_(design={"method": method, **extra}))) == points


def test_run_seeds_are_children_of_one_root_independent_of_order():
    seeds = {(i, r): run_seed(9, i, r) for i in range(5) for r in range(3)}
    assert len(set(seeds.values())) == 15
    assert all(0 <= s < 2**63 for s in seeds.values())
    # Run (point 2, replicate 1) is the root's child 1 (runs), its child 2, its child 1.
    child = np.random.SeedSequence(9).spawn(2)[1].spawn(3)[2].spawn(2)[1]
    assert int(child.generate_state(1, np.uint64)[0] >> np.uint64(1)) == seeds[(2, 1)]
    common = {run_seed(9, i, 1, common=True) for i in range(5)}
    assert len(common) == 1


def test_the_cli_reports_a_bad_sweep_file_with_exit_code_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "bad"\nscenario = "embedded"\n[[uncertainties]]\n'
        'key = "mechanisms.horizontal.strenght"\nrange = [0, 1]\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "diffusion_sim", "sweep", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "bad.toml" in done.stderr and "did you mean 'strength'" in done.stderr


def test_shipped_sweeps_are_valid():
    for path in sorted((ROOT / "sweeps").glob("*.toml")):
        sweep = load_sweep(path)
        assert len(sample(sweep)) > 0, path


def test_shipped_sweeps_load_and_count_their_runs():
    from diffusion_sim.studies.sweep.spec import design_runs

    assert design_runs(load_sweep(ROOT / "sweeps" / "embedded_sobol.toml")) == 256 * 9
    assert design_runs(load_sweep(ROOT / "sweeps" / "kern_modes_grid.toml")) == 8 * 10


def test_a_design_too_large_to_hold_is_refused_before_it_is_drawn():
    params = [
        {"key": f"mechanisms.{m}.rate", "range": [0.0, 0.01]} for m in ("innovation", "abandonment")
    ]
    params.append({"key": "mechanisms.horizontal.strength", "range": [0.0, 1.0]})
    text = message(design={"method": "grid", "levels": 10_000}, uncertainties=params, levers=[])
    assert "1,000,000,000,000 runs" in text and "at most 10,000,000" in text


def test_sweep_files_read_only_toml_scenarios_beside_them(tmp_path):
    path = tmp_path / "w.toml"
    for value, expected in [
        ("/etc/passwd", "must name a .toml file"),
        ("notes.txt", "key 'scenario' (line 2)"),
        ("embeded", "did you mean 'embedded'"),
    ]:
        lever = '[[levers]]\nkey = "mechanisms.horizontal.enabled"\nvalues = [true, false]\n'
        path.write_text(f'name = "w"\nscenario = "{value}"\n{lever}')
        with pytest.raises(InputError, match=re.escape(expected)):
            load_sweep(path)


def test_series_are_checked_like_outcomes():
    text = message(series=["share_city"])
    assert "unknown series" in text and "did you mean 'share_cities'" in text
    assert "series_every" in message(series=["adopters"], series_every=0)
    assert "must not repeat" in message(series=["adopters", "adopters"])
    assert "series_every" in message(series=["adopters"], series_every=True)  # strict


def test_series_names_are_the_timeseries_columns():
    # Every column a run's timeseries can have (here one with every level of government).
    import diffusion_sim as ds
    from diffusion_sim.studies.sweep.schema import SERIES_INT, SERIES_NAMES

    scenario = ds.load_scenario(SCENARIOS / "embedded.toml").with_overrides(
        {"world.n_cities": 200, "run.steps": 3}
    )
    table = ds.simulate(scenario, seed=1).timeseries
    assert set(table.columns) - {"step"} <= set(SERIES_NAMES)
    assert {c for c in table.columns if table[c].dtype.kind == "i"} - {"step"} <= set(SERIES_INT)
    # every level of government present: the run's columns are exactly the list, in order
    everything = scenario.with_overrides(
        {"governments.levels": ["region", "nation", "bloc", "global"]}
    )
    columns = [c for c in ds.simulate(everything, seed=1).timeseries.columns if c != "step"]
    assert tuple(columns) == SERIES_NAMES


def test_a_new_per_step_column_is_a_series_a_sweep_may_keep(monkeypatch):
    """The list is read off timeseries_table itself: a column added there needs no edit."""
    from diffusion_sim.record import tables
    from diffusion_sim.studies.sweep.series import series_schema

    original = tables.timeseries_table

    def with_a_new_column(setup, trajectory):
        table = original(setup, trajectory)
        table["adopters_twice"] = 2 * table["adopters"]
        table["share_halved"] = table["share_cities"] / 2
        return table

    monkeypatch.setattr(tables, "timeseries_table", with_a_new_column)
    tables.timeseries_columns.cache_clear()
    try:
        assert "did you mean 'adopters_twice'" in message(series=["adopters_twise"])
        sweep = with_(series=["adopters_twice", "share_halved"])
        assert sweep.spec.series == ("adopters_twice", "share_halved")
        schema = series_schema(sweep.spec.series)
        assert str(schema.field("adopters_twice").type) == "int64"
        assert str(schema.field("share_halved").type) == "double"
    finally:
        monkeypatch.undo()
        tables.timeseries_columns.cache_clear()
    assert "unknown series" in message(series=["adopters_twice"])


def test_big_series_need_the_same_confirmation_as_many_runs(capsys):
    from diffusion_sim.cli import sweep as commands
    from diffusion_sim.studies.sweep.spec import series_values

    assert series_values(with_()) == 0
    # 20 points x 1 replicate x 11 kept steps (0..10) x 2 series; 6 kept steps with every 2.
    assert series_values(with_(series=["adopters", "share_cities"])) == 20 * 11 * 2
    assert series_values(with_(series=["adopters"], series_every=2)) == 20 * 6
    big = with_(series=["adopters", "share_cities"], replicates=1000, constants={"run.steps": 2400})
    assert series_values(big) > commands.CONFIRM_SERIES_VALUES
    assert big.spec.replicates * 20 <= commands.CONFIRM_RUNS  # the runs alone would pass
    with pytest.raises(InputError, match=r"series values is more than.*pass --yes"):
        commands._check_size(big, 2, confirmed=False)
    commands._check_size(big, 2, confirmed=True)
    assert "per-step series" in capsys.readouterr().out
