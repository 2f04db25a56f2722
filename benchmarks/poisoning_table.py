"""Re-measure issue 24's cases: hostile names, layers, CSV cells, data files and inputs.

Each case runs the real CLI (in-process, in a fresh folder; the killed calibrate in
its own process, killed by SIGKILL) or the dashboard's parser, and prints what
happened now beside what the issue measured before the fixes.

Usage: ``python benchmarks/poisoning_table.py`` (about 30 s)
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diffusion_sim.cli import main  # noqa: E402
from diffusion_sim.errors import InputError  # noqa: E402
from diffusion_sim.record.csv_cells import FORMULA_STARTS  # noqa: E402

SHIPPED = ROOT / "diffusion_sim" / "shipped" / "scenarios"
EVIL = '=HYPERLINK("http://evil","x")'


def cli(args: list) -> tuple[int, str]:
    """Exit code and stderr+stdout of one command."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = int(exc.code or 0)
        except Exception as exc:  # a traceback is a result here, not a crash of the table
            return 1, f"traceback: {type(exc).__name__}: {exc}"
    return code, err.getvalue() + out.getvalue()


def scenario(folder: Path, network: str) -> Path:
    for name in ("classroom.toml", "_europe_world.toml", "_europe_bare.toml"):
        if (SHIPPED / name).is_file():
            shutil.copy(SHIPPED / name, folder / name)
    escaped = "".join(
        c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04X}" for c in network
    )
    path = folder / "poison.toml"
    path.write_text(
        f'name = "poison"\nextends = "classroom.toml"\n\n[networks."{escaped}"]\n'
        'rule = "open"\nsize = 8\n'
    )
    return path


def first_line(text: str) -> str:
    """The line of a message that says why (the one naming a key, else the first error)."""
    lines = text.splitlines()
    line = next((x for x in lines if "key '" in x), None)
    line = line or next((x for x in lines if "error" in x or "WARNING" in x), text)
    return line.strip()[:110]


def tagged(edges: Path, label: str) -> int:
    with open(edges, newline="") as handle:
        return sum(label in row["layers"].split(";") for row in csv.DictReader(handle))


def case_layer(folder: Path) -> tuple[str, str]:
    code, text = cli(["validate", scenario(folder, "proximity")])
    other = scenario(folder, "prox")
    cli(["export", other, "--format", "csv", "--world-only", "--out", folder / "t"])
    kept = tagged(folder / "t" / "world-edges.csv", "proximity")
    return "504 -> 26 edges tagged proximity, exit 0 (main on classroom: 128 -> 28)", (
        f"exit {code}: {first_line(text)}; beside a network, {kept} edges stay tagged proximity"
    )


def case_xml(folder: Path) -> tuple[str, str]:
    code, text = cli(["export", scenario(folder, "x\ufffe"), "--format", "gexf", "--out", "w.gexf"])
    return "exit 0, GEXF not well-formed", f"exit {code}: {first_line(text)}"


def case_csv(folder: Path) -> tuple[str, str]:
    path = scenario(folder, EVIL)
    code, _ = cli(["export", path, "--format", "csv", "--world-only", "--out", folder / "t"])
    live = 0
    for table in (folder / "t").glob("*.csv"):
        with open(table, newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    if cell.startswith(FORMULA_STARTS):
                        with contextlib.suppress(ValueError):
                            float(cell)
                            continue
                        live += 1
    return "formula written raw in world-edges.csv", (
        f"exit {code}: {live} cells a spreadsheet would run (the network's cells start with ')"
    )


def data(folder: Path, rows: list[str]) -> Path:
    path = folder / "d.csv"
    path.write_text("city,date\n" + "\n".join(rows) + "\n")
    return path


def case_estimate(folder: Path) -> tuple[str, str]:
    path = data(folder, ["Atlantis,2010-01-05", "El Dorado,2011-02-01"])
    code, text = cli(
        ["estimate", "classroom", "--data", path, "--unmatched", "drop", "--no-save",
         "--set", "mechanisms.horizontal.rule=contagion"]
    )  # fmt: skip
    return "AttributeError (NaT has no 'ordinal')", f"exit {code}: {first_line(text)}"


def calibrate(path: Path) -> tuple[int, str]:
    return cli(
        ["calibrate", "classroom", "--data", path, "--fit", "mechanisms.innovation.rate",
         "--method", "point", "--max-evaluations", "2", "--replicates", "1", "--no-save",
         "--quiet"]
    )  # fmt: skip


def case_duplicates(folder: Path) -> tuple[str, str]:
    rows = [f"Antwerp,201{k}-03-01" for k in range(5)] + [
        f"Ghent,201{k}-05-01" for k in range(2, 5)
    ]
    code, text = calibrate(data(folder, rows))
    note = next(line for line in text.splitlines() if "observed:" in line).strip()
    return '"observed: all 8 rows"', f"exit {code}: {note}"


def case_absent(folder: Path) -> tuple[str, str]:
    rows = [f"Nowhere {k},2010-0{1 + k % 9}-01" for k in range(40)]
    rows += [f"{c},2012-01-01" for c in ("Antwerp", "Ghent", "Brussels", "Utrecht")]
    code, text = calibrate(data(folder, rows))
    warning = next((x for x in text.splitlines() if "not cities of this world" in x), "none")
    return "only the generic R² warning", f"exit {code}: {warning.strip()[:110]}"


def case_killed(folder: Path) -> tuple[str, str]:
    path = data(folder, ["Antwerp,2010-01-01", "Ghent,2011-01-01"])
    out = folder / "results"
    args = [sys.executable, "-m", "diffusion_sim", "calibrate", "classroom", "--data", path,
            "--fit", "mechanisms.innovation.rate", "--out", out, "--quiet", "--population",
            "10", "--generations", "1"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def start_and_wait(before: set) -> tuple[subprocess.Popen, Path]:
        process = subprocess.Popen(
            list(map(str, args)), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while True:
            found = set(out.glob(".calibrate-*.abc")) - before
            if found and all((w / ".lock").is_file() for w in found):
                return process, found.pop()
            time.sleep(0.05)

    first, stale = start_and_wait(set())
    first.send_signal(signal.SIGKILL)
    first.wait()
    left = [p.name for p in out.iterdir()]
    second, _ = start_and_wait({stale})
    second.wait()
    after = [p.name for p in out.iterdir() if p.name.startswith(".") or not any(p.iterdir())]
    return "empty folder and .abc left for ever", (
        f"killed: {len(left)} entries left; after the next calibrate: {len(after)} empty "
        "or hidden entries"
    )


def case_dashboard(folder: Path) -> tuple[str, str]:
    from diffusion_sim.app.params import parameter_specs, parse_input, parse_seed
    from diffusion_sim.scenario import Scenario

    specs = parameter_specs(Scenario())["Horizontal: peer influence"]
    strength = next(s for s in specs if s["key"] == "mechanisms.horizontal.strength")
    said = []
    for parse, text in ((lambda t: parse_input(strength, t), "０.５"), (parse_seed, "７")):
        try:
            said.append(f"{text} -> {parse(text)!r}")
        except InputError as exc:
            said.append(f"{text} refused ({str(exc)[:40]}...)")
    try:
        said.append(f"1e-400 -> {parse_input(strength, '1e-400')!r}")
    except InputError as exc:
        said.append(f"1e-400 refused ({str(exc)[:30]}...)")
    return "０.５ -> 0.5, ７ refused, 1e-400 -> 0.0", "; ".join(said)


def case_overwrite(folder: Path) -> tuple[str, str]:
    path = scenario(folder, "c")
    (folder / "net-nodes.csv").write_text("precious\n")
    code, text = cli(["export", path, "--format", "csv", "--out", folder / "net.csv"])
    kept = (folder / "net-nodes.csv").read_text() == "precious\n"
    return "net-nodes.csv overwritten, exit 0", (
        f"exit {code}: {first_line(text)[:70]}; file kept: {kept}"
    )


CASES = {
    "network named `proximity`": case_layer,
    "network name with U+FFFE, export gexf": case_xml,
    f"network named {EVIL}, export csv": case_csv,
    "estimate --unmatched drop, no name matches": case_estimate,
    "calibrate, Antwerp x5 and Ghent x3": case_duplicates,
    "calibrate, 40 names absent from the world": case_absent,
    "calibrate killed by SIGKILL, then run again": case_killed,
    "dashboard inputs": case_dashboard,
    "export --format csv onto an existing net-nodes.csv": case_overwrite,
}


def main_() -> None:
    print("| case | before (issue 24) | now |\n|---|---|---|")
    for name, case in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            here = os.getcwd()
            os.chdir(tmp)
            try:
                before, now = case(Path(tmp))
            finally:
                os.chdir(here)
        print(f"| {name} | {before} | {now.replace('|', '/')} |", flush=True)


if __name__ == "__main__":
    main_()
