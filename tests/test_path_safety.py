"""No input of any kind makes the program write outside the folders it is given, or leak a file.

Every case runs the real CLI in-process from a working folder ``work/`` with
``--out work/results``, beside a folder ``outside/`` that the hostile inputs
aim at (relative and absolute). After each case ``outside/`` and the parent
folder are exactly as before, and no message echoes a secret from a file the
user did not give as the scenario itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from diffusion_sim.cli import main

SECRET = "s3cr3t-value-never-printed"
GRID = '[design]\nmethod = "grid"\n[[levers]]\nkey = "run.seed"\nvalues = [1]\n'
TINY = ["--set", "world.n_cities=60", "--steps", "3"]


def snapshot(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    work, outside = tmp_path / "work", tmp_path / "outside"
    work.mkdir()
    outside.mkdir()
    (outside / "base.toml").write_text(f'name = "x"\n[policy]\nname = "{SECRET}"\nsecret = 1\n')
    (outside / "data.csv").write_text(f"city,date\n{SECRET},2010-01-01\n")
    # A wrong value is what a message would quote: it must not quote this one.
    (outside / "bad.toml").write_text(f'name = "x"\n[world]\nn_cities = "{SECRET}"\n')
    monkeypatch.chdir(work)
    return tmp_path


def hostile_cases(root: Path) -> list[tuple[str, list[str], dict[str, str]]]:
    """(label, argv, files to write in work/ first)."""
    outside = root / "outside"
    names = ["../outside/x", str(outside / "x"), "../../x", "a/../../outside", "..", "."]
    cases = []
    for name in names:
        cases.append(
            (
                f"scenario name {name}",
                ["run", "s.toml", "--out", "results", *TINY],
                {"s.toml": f'name = "{name}"\n'},
            )
        )
        cases.append(
            (
                f"--set name={name}",
                ["run", "horizontal", "--set", f"name={name}", "--out", "results", *TINY],
                {},
            )
        )
        cases.append(
            (
                f"sweep name {name}",
                ["sweep", "w.toml", "--out", "results/w", "--workers", "1"],
                {
                    "w.toml": f'name = "{name}"\nscenario = "horizontal"\n' + GRID,
                },
            )
        )
    bases = [str(outside / name) for name in ("base.toml", "bad.toml")]
    for base in (*bases, "../outside/base.toml", "../outside/bad.toml", "/etc/passwd"):
        cases.append(
            (f"extends {base}", ["validate", "s.toml"], {"s.toml": f'extends = "{base}"\n'})
        )
        cases.append(
            (
                f"sweep scenario {base}",
                ["sweep", "w.toml", "--out", "results/w"],
                {
                    "w.toml": f'name = "w"\nscenario = "{base}"\n[design]\nmethod = "grid"\n'
                    '[[levers]]\nkey = "run.seed"\nvalues = [1]\n'
                },
            )
        )
    return cases


def test_no_input_writes_outside_or_leaks(sandbox, capsys):
    before_outside = snapshot(sandbox / "outside")
    before_root = {p.name for p in sandbox.iterdir()}
    for label, argv, files in hostile_cases(sandbox):
        for name, text in files.items():
            (sandbox / "work" / name).write_text(text)
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code
        out, err = capsys.readouterr()
        assert snapshot(sandbox / "outside") == before_outside, label
        assert {p.name for p in sandbox.iterdir()} == before_root, label
        assert SECRET not in out + err, f"{label}: a value of another file was printed"
        assert "root:" not in out + err, f"{label}: /etc/passwd was echoed"
        results = sandbox / "work" / "results"
        if results.exists():  # whatever was written stays under the given --out
            for path in results.rglob("*"):
                assert path.resolve().is_relative_to(results.resolve()), label
        assert code in (0, 2), f"{label}: exit {code}\n{err}"
