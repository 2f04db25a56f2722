"""Resume and save cannot be fooled: foreign, altered or linked files are refused or rebuilt."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import diffusion_sim as ds
from diffusion_sim.ensemble_folder import INCOMPLETE, replicate_name, run_ensemble
from diffusion_sim.errors import InputError
from diffusion_sim.record.results import Result
from diffusion_sim.record.storage import LOCK, reserve_folder
from diffusion_sim.world import real_world
from tests.conftest import SCENARIOS, small


def scenario(seed: int = 4) -> ds.Scenario:
    base = small(ds.load_scenario(SCENARIOS / "embedded.toml"), cities=300, steps=10)
    return base.with_overrides({"run.replicates": 3, "run.seed": seed})


@pytest.fixture(scope="module")
def foreign(tmp_path_factory) -> Path:
    return run_ensemble(scenario(5), tmp_path_factory.mktemp("foreign"), workers=1).folder


def test_a_replicate_from_another_seed_is_refused_naming_it(tmp_path, foreign):
    folder = run_ensemble(scenario(), tmp_path, workers=1).folder
    for name in ("manifest.json",):
        (folder / name).unlink()
    (folder / INCOMPLETE).write_text(json.dumps({"fingerprint": "x", "scenario": {}}))
    # make it resumable again with the right fingerprint, then plant a foreign replicate
    from diffusion_sim.ensemble_folder import fingerprint

    s = scenario()
    print_ = fingerprint(s, "vectorized", s.run.steps, s.run.replicates, s.run.seed)
    (folder / INCOMPLETE).write_text(json.dumps({"fingerprint": print_, "scenario": {}}))
    shutil.rmtree(folder / replicate_name(1))
    shutil.copytree(foreign / replicate_name(1), folder / replicate_name(1))
    with pytest.raises(InputError, match=r"replicate-001.*another run"):
        run_ensemble(s, tmp_path, workers=1)
    assert not (folder / "manifest.json").exists()


@pytest.mark.parametrize("record", ["[]", "null", "{", '{"fingerprint": 5}'])
def test_a_broken_incomplete_record_is_not_resumed_and_no_traceback(tmp_path, record):
    folder = reserve_folder(tmp_path, "embedded-20260101-000000")
    (folder / INCOMPLETE).write_text(record)
    report = run_ensemble(scenario(), tmp_path, workers=1)
    assert report.folder != folder and (report.folder / "manifest.json").is_file()
    assert sorted(p.name for p in folder.iterdir()) == [INCOMPLETE]


def test_a_linked_lock_is_refused_and_nothing_is_made_outside(tmp_path):
    folder = tmp_path / "out" / "x"
    folder.mkdir(parents=True)
    outside = tmp_path / "outside" / "planted"
    outside.parent.mkdir()
    (folder / LOCK).symlink_to(outside)
    from diffusion_sim.record.storage import held_lock

    with pytest.raises(InputError, match="symbolic link"):
        with held_lock(folder):
            pass
    assert not outside.exists()


def test_a_linked_replicate_is_refused(tmp_path, foreign):
    s = scenario()
    run = run_ensemble(s, tmp_path / "a", workers=1)
    folder = run.folder
    (folder / "manifest.json").unlink()
    from diffusion_sim.ensemble_folder import fingerprint

    print_ = fingerprint(s, "vectorized", s.run.steps, s.run.replicates, s.run.seed)
    (folder / INCOMPLETE).write_text(json.dumps({"fingerprint": print_, "scenario": {}}))
    shutil.rmtree(folder / replicate_name(0))
    (folder / replicate_name(0)).symlink_to(foreign / replicate_name(0))
    with pytest.raises(InputError, match="symbolic link"):
        run_ensemble(s, tmp_path / "a", workers=1)


def test_an_altered_table_or_manifest_is_refused_on_load(tmp_path, foreign):
    copy = tmp_path / "r"
    shutil.copytree(foreign / replicate_name(0), copy)
    Result.load(copy)
    events = copy / "events.parquet"
    events.write_bytes(events.read_bytes()[:-50])
    with pytest.raises(InputError, match=r"events\.parquet"):
        Result.load(copy)
    (copy / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match=r"manifest\.json"):
        Result.load(copy)


def test_saved_folders_have_the_users_usual_permissions(tmp_path, foreign):
    old = os.umask(0o022)
    try:
        folder = Result.load(foreign / replicate_name(0)).save(tmp_path / "saved", plot=False)
    finally:
        os.umask(old)
    assert folder.stat().st_mode & 0o777 == 0o755
    assert (folder / "manifest.json").stat().st_mode & 0o777 == 0o644


def test_a_damaged_world_cache_is_rebuilt_with_one_line(tmp_path, capsys):
    n = 3
    arrays = {key: np.zeros(n) for key in real_world._ARRAY_KEYS}
    arrays["country"] = arrays["region"] = np.zeros(n, dtype=np.int32)
    for key in real_world._TEXT_KEYS:
        arrays[key] = np.array(["a"] * (n if key == "city_names" else 1))
    import scipy.sparse as sp

    layer = sp.csr_array(np.ones((n, n)))
    path = tmp_path / "real-world-x.npz"
    real_world._save(path, arrays, {"proximity": layer, "twinning": layer})
    assert real_world._load(path) is not None
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    assert real_world._load(path) is None
    missing = {k: v for k, v in arrays.items() if k != "population"}
    real_world._save(path, missing, {"proximity": layer, "twinning": layer})
    assert real_world._load(path) is None
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all("rebuilding it" in line for line in lines)


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs (root only); unmounted in teardown."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_is_one_clear_error_and_leaves_no_debris(small_disk, foreign):
    filler = small_disk / "filler"
    with open(filler, "wb") as handle:  # leaves a few kB: too little for the tables
        try:
            handle.write(b"\0" * (2 * 1024 * 1024))
        except OSError:
            pass
    result = Result.load(foreign / replicate_name(0))
    with pytest.raises(InputError, match="disk is full"):
        result.save(small_disk / "run", plot=False)
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
    filler.unlink()
    saved = result.save(small_disk / "run", plot=False)
    assert Result.load(saved).timeseries.equals(result.timeseries)


def test_a_sweep_state_file_of_another_shape_is_refused_naming_it(tmp_path):
    from diffusion_sim.studies.sweep.runner import run_sweep
    from diffusion_sim.studies.sweep.spec import load_sweep

    sweep_file = Path(__file__).parent.parent / "diffusion_sim" / "shipped" / "sweeps"
    path = sorted(sweep_file.glob("*.toml"))[0]
    for text in ("[]", "{", '{"fingerprint": 1}'):
        out = tmp_path / f"out{len(text)}"
        out.mkdir()
        (out / "sweep.json").write_text(text)
        with pytest.raises(InputError, match=r"sweep\.json"):
            run_sweep(load_sweep(path), out, workers=1, progress=False)


def test_a_second_process_on_a_sweep_folder_is_refused_clearly(tmp_path):
    from diffusion_sim.studies.sweep.state import sweep_lock

    with sweep_lock(tmp_path):
        with pytest.raises(InputError, match="another sweep is running"):
            with sweep_lock(tmp_path):
                pass


def test_a_lock_that_is_a_folder_is_refused_clearly(tmp_path):
    from diffusion_sim.record.storage import held_lock

    (tmp_path / LOCK).mkdir()
    with pytest.raises(InputError, match=r"\.lock: is a folder"):
        with held_lock(tmp_path):
            pass


@pytest.fixture
def planned(tmp_path):
    """A shipped sweep's folder with its plan and design written (no run yet)."""
    from diffusion_sim.studies.sweep.parts import prepare
    from diffusion_sim.studies.sweep.spec import load_sweep

    shipped = Path(__file__).parent.parent / "diffusion_sim" / "shipped" / "sweeps"
    sweep = load_sweep(sorted(shipped.glob("*.toml"))[0])
    prepare(sweep, tmp_path / "out")
    return sweep, tmp_path / "out"


@pytest.mark.parametrize(
    "change, said",
    [
        (lambda d: d.update(total_runs=str(d["total_runs"])), "key 'total_runs'"),
        (lambda d: d["spec"].update(seed=d["spec"]["seed"] + 1), "spec or base scenario"),
        (lambda d: d["base_scenario"]["run"].update(steps=3), "spec or base scenario"),
        (lambda d: d["parameters"][0].update(key="run.seed"), "its parameters"),
    ],
)
def test_an_altered_plan_that_still_parses_is_refused(planned, change, said):
    """A plan whose seed, base or parameters were edited would give other runs than its
    fingerprint says (a seed edited in sweep.json used to give mixed results, exit 0)."""
    from diffusion_sim.studies.sweep.parts import prepare

    sweep, out = planned
    data = json.loads((out / "sweep.json").read_text())
    change(data)
    (out / "sweep.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"sweep\.json: .*" + said):
        prepare(sweep, out)


@pytest.mark.parametrize("where", ["parts", "parts/part-000000.parquet"])
def test_a_file_or_folder_where_the_other_belongs_is_refused_before_any_run(planned, where):
    from diffusion_sim.studies.sweep.runner import run_sweep

    sweep, out = planned
    if where == "parts":
        (out / "parts").write_text("x")
    else:
        (out / where).mkdir(parents=True)
    with pytest.raises(InputError, match=where.replace(".", r"\.") + ": is a"):
        run_sweep(sweep, out, workers=1, progress=False)
