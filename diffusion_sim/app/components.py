"""Solara components of the dashboard; each also displays on its own in Jupyter.

They take what they show as arguments (a :class:`LiveRun`, a snapshot, a
demonstration), so a notebook can put one under a run it made itself; the
page (:mod:`diffusion_sim.app.page`) owns the state and the layout.
"""

from __future__ import annotations

import base64
import html
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import solara

from diffusion_sim.app import layout
from diffusion_sim.app.curves import CurvesCanvas
from diffusion_sim.app.figures import demonstration_figure
from diffusion_sim.app.layout import Look, smallest_text_px
from diffusion_sim.app.learn import Demonstration
from diffusion_sim.app.params import parse_input
from diffusion_sim.app.session import LiveRun, Snapshot
from diffusion_sim.app.views import (
    CHANNEL_COLOURS,
    NETWORK_VIEW_MAX_CITIES,
    CityCanvas,
    network_layout,
    png_of,
    tie_matrix,
)
from diffusion_sim.app.widgets import BoxSize, ClickableImage
from diffusion_sim.errors import InputError

_CANVASES: OrderedDict[tuple, CityCanvas] = OrderedDict()
_CANVAS_LOCK = threading.Lock()
_CURVES: dict[tuple, CurvesCanvas] = {}


def canvas_for(run: LiveRun, kind: str, look: Look | None = None) -> CityCanvas:
    """The map or network canvas of a run's world, laid out once per box and shared by runs."""
    key = (id(run.world), kind, run.setup.pioneers.tobytes(), look)
    with _CANVAS_LOCK:
        if key in _CANVASES and _CANVASES[key].world is run.world:
            _CANVASES.move_to_end(key)
            return _CANVASES[key]
    canvas = CityCanvas(run.world, kind, run.setup, look)
    with _CANVAS_LOCK:
        _CANVASES[key] = canvas
        while len(_CANVASES) > 6:
            _CANVASES.popitem(last=False)
    return canvas


def md(text: str, style: str = "") -> None:
    """Markdown from the app's own text as HTML (solara.Markdown would load mermaid from a CDN).

    Callers escape anything that came from a file or the browser.
    """
    import markdown

    solara.HTML(
        tag="div",
        unsafe_innerHTML=markdown.markdown(text, extensions=["tables"]),
        style=style or None,
        classes=["ds-md"],
    )


def drawn(draw: Callable[[], bytes], what: str) -> bytes | None:
    """A picture, or None after showing a one-line message: a view that fails never takes the
    page down, and no traceback reaches the browser (it goes to the server log)."""
    try:
        return draw()
    except Exception as exc:
        logging.getLogger("diffusion_sim.dashboard").exception("drawing the %s failed", what)
        solara.Error(f"could not draw the {what} ({type(exc).__name__}: {exc})")
        return None


def curves_canvas(
    steps: int, unit: str, n_cities: int | None = None, look: Look | None = None
) -> CurvesCanvas:
    """The curves figure for runs of this length, world size and box, made once (then reused)."""
    key = ("curves", steps, unit, n_cities, look)
    with _CANVAS_LOCK:
        if key not in _CURVES:
            _CURVES[key] = CurvesCanvas(steps, unit, n_cities, look)
            while len(_CURVES) > 6:
                _CURVES.pop(next(iter(_CURVES)))
        return _CURVES[key]


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@solara.component
def StatusLine(snapshot: Snapshot, unit: str = "step"):
    """Step counter and adopters, in words a class can read aloud."""
    last = snapshot.timeseries.iloc[-1]
    with solara.Row(style={"gap": "24px", "align-items": "baseline", "flex-wrap": "wrap"}):
        solara.Text(f"Step {snapshot.step} / {snapshot.steps}", classes=["ds-step"])
        solara.Text(
            f"Adopters: {int(last['adopters'])} ({last['share_cities']:.1%} of cities, "
            f"{last['share_population']:.1%} of population)",
            classes=["ds-adopters"],
        )
        solara.Text(f"one step = one {unit}", classes=["ds-muted"])


@solara.component
def CityView(
    run: LiveRun,
    snapshot: Snapshot,
    kind: str = "map",
    colour_by: str = "channel",
    on_city: Callable[[int], None] | None = None,
    selected: int | None = None,
):
    """Map (longitude/latitude) or network of the cities, coloured for the snapshot.

    The selected city (clicked, or found by name) is ringed in red.
    """
    if kind == "network" and run.world.n_cities > NETWORK_VIEW_MAX_CITIES:
        kind = "map"
    made: dict[str, CityCanvas] = {}

    def draw() -> bytes:
        made["canvas"] = canvas_for(run, kind, layout.look_of("map"))
        return made["canvas"].render(snapshot, colour_by, selected)

    png = drawn(draw, kind)
    if png is None:
        return
    canvas = made["canvas"]

    def clicked(event: dict) -> None:
        try:
            city = canvas.pick(
                float(event["x"]), float(event["y"]), float(event["width"]), float(event["height"])
            )
        except (KeyError, TypeError, ValueError):
            return  # a malformed click from the browser is ignored
        if city is not None and on_city is not None:
            on_city(city)

    n = run.world.n_cities
    alt = f"{kind} of {n:,} cities, coloured by {colour_by}, step {snapshot.step}"
    if selected is not None and 0 <= selected < n:
        alt += f"; highlighted: {run.world.city_names[selected]}"
    with solara.Div(classes=["ds-map-stack"]):
        BoxSize(
            name="map",
            css_class="ds-box-map",
            event_resized=layout.report_box,
            children=[
                ClickableImage(
                    src=data_url(png),
                    alt=alt,
                    css_class="ds-map",
                    clickable=on_city is not None,
                    text_px=canvas.text_px,
                    drawn_for=f"{canvas.look.width}x{canvas.look.height}",
                    event_clicked=clicked,
                )
            ],
        )
        Legend(colour_by, getattr(canvas, "outlines", ""))


@solara.component
def Legend(colour_by: str, outlines: str = ""):
    """What the colours, rings and lines of the map mean."""
    from diffusion_sim.app.views import ADOPTED, LADDER_COLOURS, NOT_ADOPTED

    if colour_by == "ladder":
        items = {f"{rung} (pale: not yet)": colour for rung, colour in LADDER_COLOURS.items()}
    elif colour_by == "state":
        items = {"adopted": ADOPTED, "not adopted": NOT_ADOPTED, "dropped": "#d55e00"}
    else:
        items = {**CHANNEL_COLOURS, "not adopted": NOT_ADOPTED}
        items.pop("event")
    with solara.Row(classes=["ds-legend"], style={"flex-wrap": "wrap", "gap": "4px 12px"}):
        for label, colour in items.items():
            solara.HTML(
                tag="span",
                unsafe_innerHTML=f'<span aria-hidden="true" style="display:inline-block;'
                f"width:12px;height:12px;border-radius:6px;background:{colour};"
                f'margin-right:4px;vertical-align:middle"></span>{html.escape(label)}',
            )
        note = "rings: black pioneer, red selected; size: population"
        solara.Text(note + (f"; lines: {outlines}" if outlines else ""), classes=["ds-muted"])


@solara.component
def CurvesView(snapshot: Snapshot, unit: str = "step"):
    """Adoption over time stacked by channel, share of population beside share of cities."""
    n_cities = len(snapshot.adopted)
    canvas = curves_canvas(snapshot.steps, unit, n_cities, layout.look_of("curves"))
    png = drawn(lambda: canvas.render(snapshot.timeseries), "curves")
    if png is None:
        return
    BoxSize(
        name="curves",
        css_class="ds-box-curves",
        event_resized=layout.report_box,
        children=[
            ClickableImage(
                src=data_url(png),
                alt=f"adoption over time up to step {snapshot.step}: adopters by channel, "
                "share adopted",
                css_class="ds-curves",
                clickable=False,
                text_px=canvas.text_px,
                drawn_for=f"{canvas.look.width}x{canvas.look.height}",
            )
        ],
    )


@solara.component
def GovernmentsView(snapshot: Snapshot):
    """Which governments adopted, mandate, preempt, and their stance."""
    frame = snapshot.governments
    if frame.empty:
        solara.Info("This scenario has no governments.")
        return
    with solara.Row(style={"gap": "24px", "flex-wrap": "wrap"}):
        for level, group in frame.groupby("level", sort=False):
            solara.Text(
                f"{level}: {int(group['adopted'].sum())} of {len(group)} adopted, "
                f"{int(group['mandate'].sum())} mandating, {int(group['preempting'].sum())} "
                f"preempting",
                classes=["ds-gov-summary"],
            )
    shown = frame.assign(share_adopted=(frame["share_adopted"] * 100).round(1))
    shown = shown.rename(columns={"share_adopted": "% cities adopted"})
    table = html_table(shown, caption="every government now")
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f'<div class="ds-table-scroll" tabindex="0" role="region" '
        f'aria-label="governments">{table}</div>',
    )


@solara.component
def InspectorView(details: dict[str, Any] | None):
    """A city's attributes, governments, networks, neighbours, and why and when it adopted."""
    if details is None:
        solara.Text("Click a city on the map (or pick one by name) to inspect it.")
        return
    with solara.Column(classes=["ds-inspector"], gap="2px"):
        md(f"**{html.escape(details['name'])}** — {details['why']}")
        solara.Text(
            f"population {details['population']:,}; {details['ladder']}"
            f"{' (pioneer)' if details['pioneer'] else ''}; readiness {details['readiness']:.2f} "
            f"(capacity {details['capacity']:.2f}, leaning {details['leaning']:.2f}); "
            f"threshold {details['threshold']:.2f}; "
            f"{'defies' if details['defiant'] else 'obeys'} preemption"
        )
        solara.Text("governments: " + (", ".join(details["governments"]) or "none"))
        solara.Text("networks: " + (", ".join(details["networks"]) or "none"))
        neighbours = details["neighbours"]
        adopted = sum(1 for _, _, a in neighbours if a)
        shown = ", ".join(
            f"{name} ({kind}{', adopted' if a else ''})" for name, kind, a in neighbours[:12]
        )
        more = f" and {len(neighbours) - 12} more" if len(neighbours) > 12 else ""
        solara.Text(f"neighbours ({adopted} of {len(neighbours)} adopted): {shown}{more}")


@solara.component
def DemonstrationView(demo: Demonstration):
    """The four types side by side on the classroom world, with their reach on the ladder.

    Drawn for the box it is shown in and the page's text size (presenter mode), as the
    map and the curves are (:mod:`diffusion_sim.app.layout`).
    """
    look = layout.look_of("demo")
    made: dict[str, float] = {}

    def draw() -> bytes:
        xy = network_layout(demo.world, _classroom_ties(demo))
        figure = demonstration_figure(demo.panels, demo.world, xy, look)
        png = png_of(figure)
        made["text_px"] = smallest_text_px(figure)
        return png

    png = drawn(draw, "demonstration")
    if png is None:
        return
    BoxSize(
        name="demo",
        css_class="ds-box-demo",
        event_resized=layout.report_box,
        children=[
            ClickableImage(
                src=data_url(png),
                alt="Kern's four types on the classroom world: who adopted, by ladder rung "
                "and channel",
                css_class="ds-demo",
                clickable=False,
                text_px=made["text_px"],
                drawn_for=f"{look.width}x{look.height}",
            )
        ],
    )
    md(demo.caption)
    solara.HTML(
        tag="div", unsafe_innerHTML=html_table(demo.reach_table()), classes=["ds-table-box"]
    )
    for sentence in demo.sentences:  # written from the ensemble's numbers (learn.py)
        md(f"- {sentence}")


def html_table(frame: Any, caption: str = "") -> str:
    """A small DataFrame as an HTML table with column headers (``th scope="col"``), escaped.

    Examples
    --------
    >>> import pandas as pd
    >>> html_table(pd.DataFrame({"type": ["a<b"], "leaders": ["50%"]}))[:60]
    '<table class="ds-table"><thead><tr><th scope="col">type</th>'
    """
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<table class="ds-table">{cap}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    )


def _classroom_ties(demo: Demonstration):
    from diffusion_sim.app.session import LiveRun

    return tie_matrix(LiveRun(demo.scenario, demo.seed, world=demo.world).setup)


@solara.component
def ParameterInput(
    spec: dict[str, Any],
    current: Any,
    on_commit: Callable[[str, Any], str | None],
):
    """One parameter: a typed input with its allowed range as help text and errors inline.

    ``on_commit(key, value)`` applies a valid value and returns an error
    message if the scenario refuses it (e.g. a cut-off above another).
    """
    text, set_text = solara.use_state(str(current))
    error, set_error = solara.use_state(None)

    def commit(value: Any) -> None:
        if spec["type"] == "InputText":
            set_text(str(value))
        try:
            parsed = parse_input(spec, value)
        except InputError as exc:
            set_error(str(exc))
            return
        message = on_commit(spec["key"], parsed)
        set_error(message)

    help_text = spec["help"] + (f" [{spec['allowed']}]" if spec.get("allowed") else "")
    label = spec["label"]
    if spec["type"] == "Checkbox":
        solara.Checkbox(label=label, value=bool(current), on_value=commit)
    elif spec["type"] == "Select":
        solara.Select(label=label, value=current, values=spec["values"], on_value=commit)
    else:
        solara.InputText(
            label=label,
            value=text,
            on_value=commit,
            error=error or False,
            message=error or help_text,
            classes=["ds-param", "ds-param-" + spec["key"].replace(".", "-")],
        )
        return
    if error:
        solara.Error(error, dense=True)
    solara.Text(help_text, classes=["ds-muted", "ds-small"])
