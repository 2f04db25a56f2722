"""Write docs/teaching.md's figures from what the dashboard computes.

Run ``python docs/make_teaching_figures.py`` (``--check``: only compare).

Every figure of the lesson (the world's size, the pioneers, the table of what
students should see, the sentences, the seeds the pattern holds on) sits
between ``<!-- fig:NAME -->`` and ``<!-- /fig -->`` in teaching.md and is
written here from the Learn tab's own demonstration (diffusion_sim.app.learn),
so the lesson and the screen cannot disagree. tests/test_classroom.py checks
that the file holds what this script writes now (``--check`` does the same).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

TEACHING = Path(__file__).with_name("teaching.md")
SEEDS = (1, 2, 3, 7)
"""Seeds the lesson says the pattern was checked on (the world's run seed among them)."""
POINT_AT = {
    "horizontal": "adoption stays among leaders and their partners; peers cannot move cities "
    "that lack means or will",
    "vertical": "governments that adopted fund and encourage their cities: more followers "
    "adopt than with horizontal alone",
    "hierarchical": "whole regions switch at once, laggards included: the mandate does not ask",
    "embedded": "every channel feeds the others: fastest and furthest",
}
"""What the teacher points at in each panel (words; the numbers beside them are computed)."""
_FIGURE = re.compile(r"<!-- fig:(?P<name>[a-z_]+) -->(?P<body>.*?)<!-- /fig -->", re.DOTALL)


def _seeds_sentence(scenario) -> str:
    from diffusion_sim.app.learn import run_demonstration

    failing = {}
    for seed in SEEDS:
        demo = run_demonstration(scenario, seed=seed)
        if demo.not_shown:
            failing[seed] = demo.not_shown
    listed = ", ".join(map(str, SEEDS[:-1])) + f" and {SEEDS[-1]}"
    if not failing:
        return f"it shows every claim of the lesson on each seed we tried: {listed}"
    bad = "; ".join(f"seed {s}: not {', '.join(c)}" for s, c in failing.items())
    return f"on seeds {listed} it shows the lesson's claims except {bad}"


def _real_sentence() -> str:
    """What the real-city classroom (scenarios/classroom.toml) shows of the lesson, if present."""
    from diffusion_sim.app.learn import classroom_scenario, run_demonstration
    from diffusion_sim.app.session import scenario_catalog

    catalog = scenario_catalog()
    if "classroom" not in catalog:
        return "scenarios/classroom.toml is not in this checkout"
    demo = run_demonstration(classroom_scenario(catalog), world_name="classroom")
    if not demo.not_shown:
        return "it shows every claim of the lesson too"
    missing = "; ".join(f"*{c}*" for c in demo.not_shown)
    return f"{len(demo.not_shown)} of its {len(demo.claims)} claims are not shown there ({missing})"


def figures() -> dict[str, str]:
    """Each named figure of teaching.md, computed now from the built-in classroom world."""
    from diffusion_sim.app.learn import built_in_classroom, run_demonstration

    scenario = built_in_classroom()
    demo = run_demonstration(scenario)
    world, run = scenario.world, scenario.run
    n, pioneers = demo.world.n_cities, scenario.pioneers.count
    table = demo.reach_table().set_index("type")
    head = "| type | " + " | ".join(table.columns) + " | what to point at |"
    rows = [head, "|" + "---|" * (len(table.columns) + 2)]
    for mode, cells in table.iterrows():
        rows.append(f"| {mode} | " + " | ".join(cells) + f" | {POINT_AT[mode]} |")
    claims = "\n".join(f"- {s}" for s in demo.sentences)
    return {
        "world": f"{n} synthetic cities in {world.n_countries} countries, seed {run.seed}",
        "seeds": _seeds_sentence(scenario),
        "hook": f"{pioneers} of {n}",
        "cities": f"{n} cities",
        "steps": f"{run.steps} {run.step_unit}s",
        "replicates": f"{demo.replicates} replicates",
        "table": "\n\n" + "\n".join(rows) + "\n\n" + demo.caption + "\n\n" + claims + "\n",
        "pioneers": f"{pioneers} ringed pioneers",
        "real": _real_sentence(),
        "networks": ", ".join(f"{k} ({v.rule})" for k, v in scenario.networks.items()),
    }


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with each figure replaced by its value; a figure without a value is an error."""
    named = {m["name"] for m in _FIGURE.finditer(text)}
    if named - values.keys():
        raise KeyError(
            f"teaching.md names figures this script does not make: {named - values.keys()}"
        )
    return _FIGURE.sub(lambda m: f"<!-- fig:{m['name']} -->{values[m['name']]}<!-- /fig -->", text)


def main(argv: list[str]) -> int:
    text = TEACHING.read_text(encoding="utf-8")
    filled = fill(text, figures())
    if "--check" in argv:
        print("teaching.md is up to date" if filled == text else "teaching.md is out of date")
        return 0 if filled == text else 1
    TEACHING.write_text(filled, encoding="utf-8")
    print(f"wrote {TEACHING}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
