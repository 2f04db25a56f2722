"""``diffusion-sim new``: a commented scenario file that validates, runs and reads back the same."""

from __future__ import annotations

import re
import tomllib

import pytest

from diffusion_sim.cli import main
from diffusion_sim.scenario import (
    Scenario,
    iter_fields,
    load_scenario,
    parse_scenario,
    scenario_names,
)
from diffusion_sim.scenario.template import WIDTH, scenario_text


def _comment_text(text: str) -> str:
    """Every comment of a file as one line of words (comments above a key are wrapped)."""
    parts = [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]
    return " ".join(" ".join(parts).split())


@pytest.mark.parametrize("name", scenario_names())
def test_the_file_of_every_shipped_scenario_reads_back_as_that_scenario(name):
    source = load_scenario(name)
    text = scenario_text(source, "mine", name)
    back = parse_scenario(tomllib.loads(text), whole_file=True)
    assert back.to_dict() == {**source.to_dict(), "name": "mine"}
    commented = [line for line in text.splitlines() if "#" in line]  # a long value stays whole
    assert max(len(line) for line in commented) <= WIDTH


def test_every_key_of_the_file_carries_its_schemas_meaning():
    text = scenario_text(load_scenario("embedded"), "mine", "embedded")
    comments = _comment_text(text)
    checked = 0
    for key, field, _ in iter_fields(Scenario):
        if key.startswith(("networks.<name>", "governments.overrides.<name>")):
            continue  # written per network or government, checked below
        if not field.description:
            continue
        assert " ".join(field.description.split()) in comments, key
        checked += 1
    assert checked > 50
    network_size = Scenario.model_fields["networks"].annotation.__args__[1].model_fields["size"]
    assert text.count(network_size.description) == 4  # embedded's four networks
    # the comment beside a value is that field's: top_down_rate with its meaning and bounds
    above = r"# city hazard per step [^=]*\[>= 0, <=\s(# )?1\]\ntop_down_rate = 0.05\n"
    assert re.search(above, text)
    assert '\nstep_unit = "month"  # what one step means in time\n' in text


def test_new_writes_a_file_that_validates_and_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "withdrawal", "--from", "embedded"]) == 0
    assert "wrote withdrawal.toml" in capsys.readouterr().out
    path = tmp_path / "withdrawal.toml"
    first = path.read_text(encoding="utf-8")
    assert first.startswith("# withdrawal: what question")
    assert main(["validate", str(path)]) == 0
    assert "valid (5000 cities, 120 steps)" in capsys.readouterr().out
    small = ["--set", "world.n_cities=300", "--steps", "5", "--no-save", "--quiet"]
    assert main(["run", str(path), *small]) == 0
    assert "share of cities adopted" in capsys.readouterr().out
    loaded = load_scenario(path)
    assert loaded.name == "withdrawal"
    assert loaded.to_dict() == {**load_scenario("embedded").to_dict(), "name": "withdrawal"}


def test_new_from_the_defaults_gives_the_default_scenario(tmp_path):
    assert main(["new", "plain", "--out", str(tmp_path)]) == 0
    assert load_scenario(tmp_path / "plain.toml").to_dict() == {
        **Scenario().to_dict(),
        "name": "plain",
    }


def test_new_never_overwrites_without_force(tmp_path, capsys):
    path = tmp_path / "mine.toml"
    path.write_text("# my own work\n", encoding="utf-8")
    assert main(["new", "mine", "--out", str(tmp_path)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "# my own work\n"
    assert main(["new", "mine.toml", "--out", str(tmp_path), "--force"]) == 0
    assert path.read_text(encoding="utf-8").startswith("# mine: what question")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.toml"]  # nothing left beside


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["new", "../escape"], "new: NAME '../escape' must be a folder name"),
        (["new", "ok", "--from", "embeded"], "did you mean 'embedded'"),
        (["new", "ok", "--out", "no/such/folder"], "no such folder"),
    ],
)
def test_bad_new_input_is_one_message_and_exit_2(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("target", ["nowhere/study.toml", "study"])
def test_a_missing_scenario_file_says_how_to_make_one(command, target, tmp_path, capsys):
    assert main([command, target]) == 2
    err = capsys.readouterr().err
    assert "no such scenario file" in err
    assert "'diffusion-sim new study' writes a commented study.toml" in err
