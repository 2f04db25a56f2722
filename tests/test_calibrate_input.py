"""Bad input to ``calibrate`` (issue 10): one clear message, exit 2, before any simulation.

Messages name the flag or the file (and the line where there is one) and say what is
allowed; they never repeat a value or a header read from the data file, which may be
any CSV a user points ``--data`` at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import diffusion_sim as ds
from diffusion_sim.cli import main
from diffusion_sim.studies.calibration import calibrate
from tests.conftest import SCENARIOS

SECRET = "Zq7SecretValue"
KEY = "mechanisms.innovation.rate"


@pytest.fixture(autouse=True)
def no_simulation(monkeypatch):
    """Every case here must be refused before a world is built or a step simulated."""

    def refuse(*args, **kwargs):
        raise AssertionError("a simulation or world build started on bad input")

    monkeypatch.setattr("diffusion_sim.simulation.build_world", refuse)
    monkeypatch.setattr("diffusion_sim.studies.calibration.model.run_trajectory", refuse)


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(["calibrate", "horizontal", *args])
    except SystemExit as exc:  # argparse's own refusal of a flag's value
        code = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def good_csv(tmp_path: Path) -> Path:
    path = tmp_path / "good.csv"
    path.write_text("city,date\nA,2010-01-05\nB,2010-03-01\n")
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (f"city,date\nA,2010-01-05\nB,\xff{SECRET}\n".encode("latin-1"), "line 3: is not UTF-8"),
        (f"{SECRET},when\nA,2010-01-05\n".encode(), "expected the columns 'city' and 'date'"),
        (f"city,date\nA,2010-01-05\nB,{SECRET}\n".encode(), "on line(s) 3;"),
        (b"city,date\n", "no rows"),
        (f'city,date\nA,2010-01-05,{SECRET},x\n"B,2010\n'.encode(), "not a readable CSV"),
        (f"city,date,coordinated\nA,2010-01-05,{SECRET}\n".encode(), "column 'coordinated'"),
    ],
    ids=["empty", "blank", "not-utf8", "columns", "dates", "header-only", "ragged", "flag"],
)
def test_bad_data_files_name_file_and_line_never_the_content(tmp_path, capsys, content, expected):
    data = tmp_path / "data.csv"
    data.write_bytes(content)
    code, err = run_cli(["--data", str(data), "--fit", KEY], capsys)
    assert code == 2
    assert expected in err and str(data) in err
    assert SECRET not in err


def test_a_directory_is_not_a_data_file(tmp_path, capsys):
    code, err = run_cli(["--data", str(tmp_path), "--fit", KEY], capsys)
    assert code == 2 and "is a directory" in err and str(tmp_path) in err


@pytest.mark.parametrize("unit", ["day", "month", "year"])
def test_dates_in_the_future_are_refused_with_their_line(tmp_path, capsys, unit):
    """2010 to 9999 in months is under the step limit, yet no observation: refused first."""
    data = tmp_path / "far.csv"
    data.write_text("city,date\nA,2010-01-01\nB,2012-05-01\nC,9999-12-31\n")
    code, err = run_cli(
        ["--data", str(data), "--fit", KEY, "--set", f"run.step_unit={unit}"], capsys
    )
    assert code == 2
    assert "after today" in err and "line(s) 4" in err and str(data) in err


@pytest.mark.parametrize(
    ("dates", "unit", "expected"),
    [
        (("1700-01-01", "2000-12-31"), "day", "109,938 days"),
        (("1700-01-01", "2020-12-31"), "day", "days"),
    ],
)
def test_dates_beyond_the_step_limit_are_refused(tmp_path, capsys, dates, unit, expected):
    data = tmp_path / "long.csv"
    data.write_text(f"city,date\nA,{dates[0]}\nB,{dates[1]}\n")
    code, err = run_cli(
        ["--data", str(data), "--fit", KEY, "--set", f"run.step_unit={unit}"], capsys
    )
    assert code == 2
    assert expected in err and "at most 100,000" in err and "line 3" in err


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--denominator", "0"], "--denominator"),
        (["--denominator", "-5"], "--denominator"),
        (["--max-evaluations", "0"], "--max-evaluations"),
        (["--replicates", "0"], "--replicates"),
        (["--workers", "0"], "--workers"),
        (["--population", "3"], "--population"),
        (["--method", "grid"], "--method"),
    ],
)
def test_bad_flags_name_the_flag(tmp_path, capsys, flags, expected):
    code, err = run_cli(["--data", str(good_csv(tmp_path)), "--fit", KEY, *flags], capsys)
    assert code == 2 and expected in err


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--prior", f"{KEY}=normal:0:1"], "kind must be one of loguniform, uniform"),
        (["--prior", f"{KEY}=loguniform:0:0.1"], "needs LOW > 0"),
        (["--prior", f"{KEY}=uniform:0.5:2"], "leaves the schema's range"),
        (["--prior", "mechanisms.horizontal.strength=uniform:0:1"], "not one of the --fit keys"),
        (["--prior", f"{KEY}"], "--prior takes KEY=loguniform:LOW:HIGH"),
        (["--start", "not-a-date"], "--start: not a date"),
        (["--start", "2030-01"], "every date in the data is earlier"),
        (["--denominator", "1"], "--denominator 1: fewer cities than the 2 adoptions"),
    ],
)
def test_bad_settings_are_refused_with_what_is_allowed(
    tmp_path, capsys, monkeypatch, flags, expected
):
    if "--denominator" in flags:  # needs the world's size: allow the world, not a run
        monkeypatch.undo()
        monkeypatch.setattr(
            "diffusion_sim.studies.calibration.model.run_trajectory",
            lambda *a, **k: (_ for _ in ()).throw(AssertionError("simulated")),
        )
    code, err = run_cli(
        ["--data", str(good_csv(tmp_path)), "--fit", KEY, "--method", "point", *flags], capsys
    )
    assert code == 2 and expected in err


def test_the_python_api_refuses_the_same(tmp_path):
    scenario = ds.load_scenario(SCENARIOS / "horizontal.toml")
    data = good_csv(tmp_path)
    for kwargs, expected in [
        ({"denominator": 0}, "--denominator must be a positive"),
        ({"max_evaluations": 0}, "--max-evaluations must be a whole number"),
        ({"method": "grid"}, "--method must be one of abc, point"),
        ({"replicates": 0}, "--replicates"),
    ]:
        with pytest.raises(ds.InputError, match=expected):
            calibrate(scenario, data, [KEY], **kwargs)
    with pytest.raises(ds.InputError, match="at least one --fit"):
        calibrate(scenario, data, [])
    with pytest.raises(ds.InputError, match="given twice"):
        calibrate(scenario, data, [KEY, KEY])
    with pytest.raises(ds.InputError, match="no coordinator column"):
        calibrate(scenario, data, [KEY], coordinated=True)
