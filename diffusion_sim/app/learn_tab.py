"""The Learn tab: Kern's four types, and the demonstration on a classroom world.

The world is the lesson's (docs/teaching.md) by default and is kept in
:data:`diffusion_sim.app.state.learn_world`, so it survives a visit to the live
view. The demonstration runs as a task with its progress on screen; its
verdict and sentences are written from the ensemble's numbers (learn.py), and a
world that does not show a claim says so, with the numbers.
"""

from __future__ import annotations

import solara
import solara.lab

from diffusion_sim.app import state
from diffusion_sim.app.components import DemonstrationView, md
from diffusion_sim.app.learn import (
    KERN_TYPES,
    REPLICATES,
    Demonstration,
    demonstration_runs,
    progress_text,
    run_demonstration,
)

INTRO = (
    "Kristine Kern (2019) describes four ways a local experiment spreads and rises to "
    "higher levels. The demonstration runs each type on a **classroom world**, "
    "switching only the mechanism: the maps show one run each (an illustration), marking "
    "each city as a **leader** (triangle), **follower** (circle) or **laggard** (square); "
    "the table and the sentences under it are ensemble means with 95% intervals over "
    f"{REPLICATES} replicates on common seeds, so they show the pattern, not one lucky run."
)


@solara.lab.task
def demonstration_task(world_name: str) -> Demonstration:
    """The demonstration on a Learn world, reporting each run done as the task's progress."""
    total = demonstration_runs()

    def report(done: int) -> None:
        demonstration_task.progress = 100.0 * done / total

    demonstration_task.progress = 0.0
    return run_demonstration(
        state.base_scenario(world_name), world_name=world_name, on_progress=report
    )


@solara.component
def LearnTab():
    """Kern's four types explained, and the one-click demonstration on a classroom world."""
    md(INTRO)
    with solara.Row(style={"flex-wrap": "wrap", "gap": "8px"}):
        for info in KERN_TYPES.values():
            with solara.Card(info["title"], style={"width": "320px"}):
                md(info["text"])

    @state.guarded
    def open_classroom() -> None:
        state.choose_scenario(state.learn_world.value)
        state.tab.set(0)

    running = demonstration_task.pending
    with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Select(
            "Classroom world",
            value=state.learn_world,
            values=state.LEARN_WORLDS,
            classes=["ds-learn-world"],
        )
        solara.Button(
            "Show the demonstration",
            on_click=lambda: demonstration_task(state.learn_world.value),
            color="primary",
            disabled=running,
        )
        solara.Button("Open it in the live view", on_click=open_classroom)
    if running:
        done = round((demonstration_task.progress or 0.0) * demonstration_runs() / 100)
        solara.ProgressLinear(demonstration_task.progress or True)
        solara.Text(progress_text(done), classes=["ds-learn-progress"])
        return
    if demonstration_task.error:
        solara.Error(f"the demonstration failed: {demonstration_task.exception}")
        return
    demo = demonstration_task.value
    if demo is None:
        return
    if demo.world_name != state.learn_world.value:
        md(f"The demonstration shown last was on {demo.world_name}: show it for this world.")
        return
    if demo.not_shown:
        solara.Warning(demo.verdict, classes=["ds-learn-verdict"])
    else:
        solara.Success(demo.verdict, classes=["ds-learn-verdict"])
    DemonstrationView(demo)
