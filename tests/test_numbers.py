"""One number parser: scenario files, ``--set`` and the dashboard read a number alike (issue 24).

The dashboard took ``０.５`` for a strength but refused ``７`` for the seed, and read
``1e-400`` as 0.0; a file refused full-width digits (TOML does) and read ``1e-400``
as 0.0 too. Now every input refuses both, with the same words.
"""

from __future__ import annotations

import pytest

import diffusion_sim as ds
from diffusion_sim.app.params import parameter_specs, parse_input, parse_seed
from diffusion_sim.cli import main
from diffusion_sim.errors import InputError
from diffusion_sim.scenario.numbers import SMALLEST, NumberError, parse_number


def strength_spec() -> dict:
    specs = parameter_specs(ds.Scenario())["Horizontal: peer influence"]
    return next(s for s in specs if s["key"] == "mechanisms.horizontal.strength")


def rate_spec() -> dict:
    specs = [s for group in parameter_specs(ds.Scenario()).values() for s in group]
    return next(s for s in specs if s["key"] == "mechanisms.innovation.rate")


def validate_file(tmp_path, capsys, value: str) -> tuple[int, str]:
    path = tmp_path / "n.toml"
    path.write_text(f'name = "n"\n\n[mechanisms.innovation]\nrate = {value}\n', encoding="utf-8")
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err


def validate_set(capsys, value: str) -> tuple[int, str]:
    code = main(["validate", "embedded", "--set", f"mechanisms.innovation.rate={value}"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("value", ["０.５", "０", "٣", "1e-400", "-1e-400", "1e-310"])
def test_every_input_refuses_the_same_numbers(tmp_path, capsys, value):
    with pytest.raises(InputError):
        parse_input(rate_spec(), value)
    code, err = validate_file(tmp_path, capsys, value)
    assert code == 2 and "Traceback" not in err
    code, err = validate_set(capsys, value)
    assert code == 2 and "Traceback" not in err


@pytest.mark.parametrize("value", ["1e-400", "5e-324"])
def test_underflow_is_refused_with_key_and_line_not_read_as_zero(tmp_path, capsys, value):
    code, err = validate_file(tmp_path, capsys, value)
    assert code == 2 and "key 'mechanisms.innovation.rate' (line 4)" in err
    assert "too close to 0" in err
    code, err = validate_set(capsys, value)
    assert code == 2 and "--set" in err and "too close to 0" in err
    with pytest.raises(InputError, match=r"too close to 0.*allowed is"):
        parse_input(rate_spec(), value)


def test_full_width_digits_are_named_in_the_dashboard_and_for_the_seed():
    with pytest.raises(InputError, match=r"holds the digit '０' \(U\+FF10\): type ASCII"):
        parse_input(strength_spec(), "０.５")
    with pytest.raises(InputError, match=r"seed must be an integer.*holds the digit '７'"):
        parse_seed("７")


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.5", 0.5), ("1", 1), ("1e-3", 1e-3), ("1_0e-2", 0.1), ("+0.25", 0.25), ("0", 0)],
)
def test_what_a_file_accepts_the_dashboard_accepts(tmp_path, capsys, text, value):
    assert parse_input(strength_spec(), text) == value
    code, err = validate_file(tmp_path, capsys, text)
    assert code == 0, err


@pytest.mark.parametrize("text", [".5", "05", "1.", "0.5.1", "true", "0x1p3", "1e"])
def test_what_a_file_refuses_the_dashboard_refuses(tmp_path, capsys, text):
    with pytest.raises(InputError):
        parse_input(strength_spec(), text)
    code, _ = validate_file(tmp_path, capsys, text)
    assert code == 2


def test_whole_numbers_are_written_as_whole_numbers():
    steps = parameter_specs(ds.Scenario())["Run"][0]
    assert parse_input(steps, "1_000") == 1000
    for text in ("12.0", "1e3"):  # a file refuses a float for an integer key: so does this
        with pytest.raises(InputError, match="not a whole number"):
            parse_input(steps, text)


def test_the_smallest_normal_float_is_accepted():
    assert parse_number(repr(SMALLEST)) == SMALLEST
    assert parse_number("0.0e-999") == 0.0  # zero written as zero is zero
    with pytest.raises(NumberError):
        parse_number("2e-308")
