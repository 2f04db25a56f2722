"""The coordinator world in a forecast: built from the rows up to --train-until only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.errors import InputError
from diffusion_sim.simulation import build_world
from diffusion_sim.studies.calibration import coordinated_world, read_adoptions
from diffusion_sim.studies.calibration.forecast import split_data
from tests.conftest import ROOT

COVENANT = ROOT.parent / "shared" / "data" / "covenant_of_mayors_signatories_2024.csv"
needs_file = pytest.mark.skipif(
    not COVENANT.is_file(), reason="the JRC file is reference data outside the repository"
)
CUT = "2014-12"


def _small_covenant() -> ds.Scenario:
    return ds.load_scenario("eu_covenant").with_overrides(
        {"world.countries": ["IT", "ES", "BE", "PL"], "world.max_cities": 600}
    )


def _late_rows_rewritten(tmp_path) -> tuple[pd.DataFrame, object]:
    """The JRC file with every row after the cut given a coordinator of its own."""
    raw = pd.read_csv(COVENANT, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    late = (pd.to_datetime(raw["date_of_adhesion"], format="mixed") > "2014-12-31").to_numpy()
    changed = raw.copy()
    changed.loc[late, "coordinator_name"] = [f"Late agency {i % 7}" for i in range(late.sum())]
    path = tmp_path / "late.csv"
    changed.to_csv(path, index=False)
    return raw, path


def _built(scenario, path, cut):
    adoptions = read_adoptions(path)
    if cut is not None:
        adoptions = split_data(adoptions, "month", cut, None, "2008-01")[0]
    return coordinated_world(scenario, build_world(scenario, seed=1), adoptions, "2008-01")


@needs_file
def test_the_forecast_world_reads_no_row_after_train_until(tmp_path):
    scenario = _small_covenant()
    _, late_path = _late_rows_rewritten(tmp_path)
    on, world, note = _built(scenario, COVENANT, CUT)
    late_on, late_world, late_note = _built(scenario, late_path, CUT)
    # rows after the cut rewritten: the same world, the same events, the same note
    assert late_world.region_names == world.region_names
    np.testing.assert_array_equal(late_world.region, world.region)
    assert late_on.events == on.events and late_note == note
    coordinators = [e for e in on.events if e.kind == "stance"]
    assert coordinators and all(e.stance == "supportive" for e in coordinators)
    assert all(e.government.startswith("coordinator: ") for e in coordinators)
    assert max(e.step for e in coordinators) <= 83  # December 2014 is step 83 from 2008-01
    # the held-out years do shape it when given: the full file knows more coordinators
    full_on, full_world, _ = _built(scenario, COVENANT, None)
    assert len(full_on.events) > len(on.events)
    assert set(full_world.region_names) != set(world.region_names)
    assert not any("Late agency" in name for name in late_world.region_names)
    assert any("Late agency" in n for n in _built(scenario, late_path, None)[1].region_names)


@needs_file
def test_a_forecast_with_coordinators_is_the_same_whatever_the_held_out_rows_say(tmp_path):
    scenario = _small_covenant()
    _, late_path = _late_rows_rewritten(tmp_path)
    options = dict(
        train_until=CUT,
        start="2008-01",
        method="point",
        draws=10,
        replicates=1,
        max_evaluations=4,
        world_seeds=1,
        coordinators=True,
    )
    keys = ["mechanisms.innovation.rate", "mechanisms.vertical.top_down_rate"]
    first = ds.forecast(scenario, COVENANT, keys, **options)
    second = ds.forecast(scenario, late_path, keys, **options)
    for a, b in zip(first.methods, second.methods, strict=True):
        np.testing.assert_array_equal(a.band, b.band)
    _, _, note = _built(scenario, COVENANT, CUT)
    assert first.calibration.manifest["coordinators"] == note
    assert "rows dated up to 2014-12-" in note and f"world: {note}" in first.summary()
    # fitted.toml's scenario has no coordinator events (they need the coordinator world)
    assert not any(e.kind == "stance" for e in first.calibration.scenario.events)


def test_coordinators_need_the_jrc_file_on_a_real_world(tmp_path):
    data = tmp_path / "a.csv"
    data.write_text("city,date\nCity 1,2001-03-01\nCity 2,2002-05-01\n", encoding="utf-8")
    scenario = ds.load_scenario("embedded").with_overrides(
        {"world.n_cities": 200, "mechanisms.horizontal.rule": "contagion", "run.steps": 36}
    )
    with pytest.raises(InputError, match="--coordinators: needs the JRC"):
        ds.forecast(
            scenario,
            data,
            ["mechanisms.innovation.rate"],
            train_until="2001-12",
            start="2001-01",
            method="point",
            draws=10,
            coordinators=True,
        )


@pytest.mark.parametrize("flag", ["--coordinators", "--receptivity"])
@pytest.mark.parametrize("command", ["calibrate", "forecast"])
def test_a_data_world_flag_on_a_generic_file_exits_2_naming_it(tmp_path, capsys, command, flag):
    """--coordinators and --receptivity (world data read from the JRC file) on a generic file."""
    from diffusion_sim.cli import main

    data = tmp_path / "a.csv"
    data.write_text("city,date\nCity 1,2001-03-01\nCity 2,2002-05-01\n", encoding="utf-8")
    argv = [command, "embedded", "--data", str(data), "--fit", "mechanisms.innovation.rate"]
    argv += ["--method", "point", flag, "--set", "world.n_cities=200"]
    argv += ["--set", "mechanisms.horizontal.rule=contagion", "--out", str(tmp_path / "out")]
    if command == "forecast":
        argv += ["--train-until", "2001-12"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{flag}: needs the JRC" in err and "Traceback" not in err
    assert not any((tmp_path / "out").glob("*/manifest.json"))  # nothing looks complete
