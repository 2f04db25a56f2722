"""Every chart the CLI and the dashboard write: a time axis with its unit, legends off the data."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import diffusion_sim as ds
from diffusion_sim.record import plotting
from diffusion_sim.record.plotting import legend_overlaps, step_label
from tests.conftest import SCENARIOS

SMALL = {"world.n_cities": 400, "run.steps": 40}


@pytest.fixture(scope="module")
def horizontal_run():
    """A horizontal run with abandonment, so cities drop the policy."""
    scenario = ds.Scenario().with_overrides(
        {
            **SMALL,
            "run.step_unit": "year",
            "mechanisms.vertical.enabled": False,
            "mechanisms.hierarchical.enabled": False,
            "mechanisms.abandonment.enabled": True,
            "mechanisms.abandonment.rate": 0.05,
        }
    )
    return ds.simulate(scenario, seed=3)


@pytest.fixture
def captured(monkeypatch):
    """The figures the plotting functions save, kept open for inspection."""
    figures = []
    monkeypatch.setattr(plt, "close", lambda fig=None: figures.append(fig))
    yield figures
    monkeypatch.undo()
    matplotlib.pyplot.close("all")


def test_step_labels_name_the_unit():
    assert step_label("month") == "months since the start"
    assert step_label("years") == "years since the start"


def test_cli_channel_chart_has_unit_no_legend_on_data_and_labels_dropouts(
    horizontal_run, captured, tmp_path
):
    ts = horizontal_run.timeseries
    dropped = ts[["drop_abandonment", "drop_preemption"]].to_numpy().sum()
    assert dropped > 0
    plotting.plot_channels(ts, tmp_path / "a.png", title="t", step_unit="year")
    (figure,) = captured
    axes = [ax for ax in figure.axes if ax.get_title()]
    assert all(ax.get_xlabel() == "years since the start" for ax in axes)
    assert legend_overlaps(figure) == []
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert "dropped since (abandonment, preemption)" in labels
    notes = [t.get_text() for t in figure.axes[0].texts]
    assert any("dropped the policy" in n for n in notes)


def test_cli_band_chart_has_unit_and_no_legend_on_data(captured, tmp_path):
    ensemble = ds.simulate_ensemble(ds.Scenario().with_overrides(SMALL), replicates=3, seed=1)
    plotting.plot_band(ensemble.band, tmp_path / "b.png", step_unit="month")
    (figure,) = captured
    assert figure.axes[0].get_xlabel() == "months since the start"
    assert legend_overlaps(figure) == []


def test_a_legend_over_the_curves_is_caught(tmp_path):
    figure, ax = plt.subplots()
    ax.plot([0, 1, 2], [1.0, 1.0, 0.0], label="share adopted")  # across the top left
    ax.legend(loc="upper left")
    try:
        assert legend_overlaps(figure) == [": share adopted"]
    finally:
        plt.close(figure)


def test_dashboard_charts_have_unit_and_no_legend_on_data(horizontal_run):
    pytest.importorskip("solara")
    from diffusion_sim.app.curves import CurvesCanvas
    from diffusion_sim.app.figures import compare_figure
    from diffusion_sim.app.session import LiveRun

    scenario = ds.Scenario().with_overrides(SMALL)
    run = LiveRun(scenario, seed=2)
    run.step(40)
    canvas = CurvesCanvas(40, "month", run.world.n_cities)
    canvas.render(run.snapshot().timeseries)
    assert canvas.left.get_xlabel() == canvas.right.get_xlabel() == "months since the start"
    assert legend_overlaps(canvas.figure) == []
    band = ds.simulate_ensemble(scenario, replicates=2, seed=1).band
    figure = compare_figure({"A": band, "B": band}, unit="month")
    assert figure.axes[0].get_xlabel() == "months since the start"
    assert legend_overlaps(figure) == []


# ------------------------------------------------------------------ dates, every CLI chart

DATE = r"^\d{4}-\d{2}$"


def tick_texts(ax) -> list[str]:
    """The x tick labels as drawn (call after the figure was drawn)."""
    return [t.get_text() for t in ax.get_xticklabels() if t.get_text()]


def test_with_a_start_the_time_axis_is_written_in_dates(horizontal_run, captured, tmp_path):
    import re

    plotting.plot_channels(
        horizontal_run.timeseries, tmp_path / "a.png", step_unit="month", start="2005-02"
    )
    (figure,) = captured
    assert legend_overlaps(figure) == []  # draws the figure
    for ax in figure.axes:
        labels = tick_texts(ax)
        assert labels and all(re.fullmatch(DATE, t) for t in labels), labels
        assert labels[0] == "2005-02" and "2006-02" in labels  # 12 months on, not 12 steps
        assert "month" in ax.get_xlabel() and "2005-02" in ax.get_xlabel()
    assert plotting.step_date(11, "months", "2005-02").strftime("%Y-%m") == "2006-01"
    assert plotting.step_date(2, "year", "2017-06-01").year == 2019


def test_the_cli_draws_dates_for_a_scenario_with_a_start(captured, tmp_path):
    from diffusion_sim.cli import main

    tiny = ["--set", "world.n_cities=200", "--steps", "30", "--out", str(tmp_path)]
    dated = ["--set", "run.start=2017-06"]
    assert main(["run", "horizontal", *tiny, *dated, "--quiet"]) == 0
    assert main(["run", "horizontal", *tiny, *dated, "--replicates", "2", "--quiet"]) == 0
    assert main(["run", "horizontal", *tiny, "--quiet"]) == 0
    # each run draws its adoption (or band) chart, then its curves by rung and channel
    adoption, curves, band, plain = captured[0], captured[1], captured[2], captured[4]
    for figure in (adoption, band, curves):
        figure.canvas.draw()
        assert tick_texts(figure.axes[0])[0] == "2017-06", tick_texts(figure.axes[0])
    plain.canvas.draw()
    assert plain.axes[0].get_xlabel() == "months since the start"
    assert all(t.lstrip("−-").isdigit() for t in tick_texts(plain.axes[0]))


def test_results_saved_from_python_draw_dates_too(captured, tmp_path):
    """The date comes from the run's manifest, so saving from Python dates the charts too."""
    scenario = ds.load_scenario("horizontal").with_overrides(
        {"world.n_cities": 200, "run.steps": 30, "run.start": "2017-06"}
    )
    ds.simulate(scenario).save(tmp_path / "one")
    ds.simulate_ensemble(scenario, replicates=2).save(tmp_path / "two")
    assert len(captured) >= 2
    for figure in captured:
        figure.canvas.draw()
        assert tick_texts(figure.axes[0])[0] == "2017-06", tick_texts(figure.axes[0])


def test_compare_chart_has_unit_and_no_legend_on_data(captured, tmp_path):
    scenario = ds.Scenario().with_overrides({**SMALL, "run.step_unit": "year"})
    comparison = ds.compare_modes(scenario, replicates=2, seed=1)
    comparison.plot(tmp_path / "curves.png")
    (figure,) = captured
    shown = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_xlabel() for ax in shown] == ["years since the start"] * len(shown)
    assert legend_overlaps(figure) == []
    (legend,) = figure.legends
    assert len(legend.get_texts()) == 4  # the four modes
    titles = [ax.get_title() for ax in shown]
    # by Kern's ladder rung and by channel, beside the overall shares
    assert {"leaders (Kern's ladder)", "laggards (Kern's ladder)"} <= set(titles)
    assert {"adopters through horizontal", "adopters through hierarchical"} <= set(titles)


def test_compare_chart_marks_the_scenarios_events_and_takes_format_and_size(captured, tmp_path):
    from diffusion_sim.record.charts import event_marks

    scenario = ds.load_scenario(SCENARIOS / "us_paris_withdrawal.toml").with_overrides(
        {"world.n_cities": 300, "run.steps": 20}
    )
    comparison = ds.compare([scenario], replicates=2, seed=1)
    marks = event_marks(comparison.manifest["scenarios"][comparison.labels[0]])
    assert marks == [(17, "government_withdraws, stance, network_founded, pioneers, summit")]
    for fmt in ("svg", "pdf"):
        path = comparison.plot(tmp_path / f"curves.{fmt}", figsize=(8, 6))
        head = path.read_bytes()[:5]
        assert head == (b"%PDF-" if fmt == "pdf" else b"<?xml")
    figure = captured[-1]
    assert tuple(figure.get_size_inches()) == (8, 6)
    lines = [line for line in figure.axes[0].lines if list(line.get_xdata()) == [17, 17]]
    assert len(lines) == 1 and lines[0].get_linestyle() == "--"
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert any("government withdraws" in t for t in texts)


def test_calibration_chart_has_unit_and_no_legend_on_data(captured, tmp_path):
    import pandas as pd

    from diffusion_sim.studies.calibration import calibrate

    scenario = ds.Scenario().with_overrides(
        {**SMALL, "run.steps": 24, "mechanisms.horizontal.rule": "contagion"}
    )
    cities = ds.simulate(scenario, seed=2).cities
    adopters = cities[cities["first_adoption_step"] >= 0]
    dates = pd.Period("2010-01", freq="M") + adopters["first_adoption_step"].to_numpy()
    data = tmp_path / "data.csv"
    pd.DataFrame({"city": adopters["name"], "date": [d.start_time.date() for d in dates]}).to_csv(
        data, index=False
    )
    key = "mechanisms.horizontal.strength"
    fit = calibrate(scenario, data, [key], method="point", replicates=1, max_evaluations=2)
    fit.plot(tmp_path / "fit.png")
    (figure,) = captured
    assert all("month" in ax.get_xlabel() for ax in figure.axes)
    assert legend_overlaps(figure) == []
    labels = [t.get_text() for t in figure.axes[-1].get_legend().get_texts()]
    assert "observed" in labels and "best fit, mean" in labels


def test_sweep_charts_name_their_axes_and_keep_legends_off_the_data(tmp_path, monkeypatch):
    """The sweep's figures have no time axis: each axis names its parameter or measure."""
    from matplotlib.figure import Figure

    from diffusion_sim.studies.sweep.analyze import analyze
    from diffusion_sim.studies.sweep.runner import run_sweep
    from diffusion_sim.studies.sweep.spec import sweep_from_dict
    from tests.conftest import SCENARIOS

    spec = {
        "name": "charts",
        "scenario": str(SCENARIOS / "embedded.toml"),
        "seed": 5,
        "outcomes": ["share_cities", "time_to_50pct"],
        "constants": {"world.n_cities": 150, "run.steps": 8},
        "uncertainties": [
            {
                "key": "mechanisms.horizontal.thresholds.mean",
                "name": "threshold",
                "range": [0.05, 0.6],
            },
            {"key": "mechanisms.innovation.rate", "name": "innovation", "range": [0.001, 0.05]},
        ],
        "design": {"method": "sobol", "samples": 8},
        "questions": [{"name": "Half within 5 steps", "condition": "time_to_50pct <= 5"}],
    }
    folder = tmp_path / "sweep"
    assert run_sweep(sweep_from_dict(spec), folder, workers=1, progress=False).complete
    figures = []
    save = Figure.savefig
    monkeypatch.setattr(
        Figure, "savefig", lambda self, *a, **k: (figures.append(self), save(self, *a, **k))[1]
    )
    analyze(folder)
    assert len(figures) >= 3  # sensitivity, main effects, PRIM trade-off
    for figure in figures:
        assert legend_overlaps(figure) == []
        for ax in figure.axes:
            if ax.get_label() == "<colorbar>" or not ax.get_visible():
                continue
            assert ax.get_xlabel() or tick_texts(ax), figure


def _dashed_at(ax, step: int) -> list:
    return [
        line
        for line in ax.lines
        if list(line.get_xdata()) == [step, step] and line.get_linestyle() == "--"
    ]


def test_run_charts_by_rung_and_channel_mark_the_events_in_the_format_and_size_asked(
    captured, tmp_path, capsys
):
    from diffusion_sim.cli import main

    out = tmp_path / "out"
    out.mkdir()
    argv = ["run", str(SCENARIOS / "us_paris_withdrawal.toml"), "--steps", "20"]
    argv += ["--set", "world.n_cities=300", "--out", str(out), "--quiet"]
    assert main([*argv, "--format", "svg", "--figsize", "8,5"]) == 0
    (folder,) = out.iterdir()
    names = {p.name for p in folder.iterdir()}
    assert {"adoption.svg", "curves.svg"} <= names and not any(n.endswith(".png") for n in names)
    assert (folder / "curves.svg").read_bytes()[:5] == b"<?xml"
    adoption, curves = captured[-2:]
    assert tuple(curves.get_size_inches()) == tuple(adoption.get_size_inches()) == (8, 5)
    shown = [ax for ax in curves.axes if ax.get_visible()]
    titles = [ax.get_title() for ax in shown]
    assert {"leaders (Kern's ladder)", "adopters through vertical"} <= set(titles)
    assert all(len(_dashed_at(ax, 17)) == 1 for ax in shown)  # the events, on every panel
    assert any("government withdraws" in t.get_text() for t in shown[0].texts)
    assert "one run (seed" in curves.get_suptitle()
    assert all(len(_dashed_at(ax, 17)) == 1 for ax in adoption.axes[:2])
    # the curves drawn are the run's own numbers
    import pandas as pd

    timeseries = pd.read_parquet(folder / "timeseries.parquet")
    (line,) = [x for x in shown[2].lines if x.get_linestyle() == "-"]
    assert list(line.get_ydata()) == list(timeseries["share_leaders"])


def test_an_ensembles_charts_take_the_format_and_mark_events(captured, tmp_path):
    scenario = ds.load_scenario(SCENARIOS / "us_paris_withdrawal.toml").with_overrides(
        {"world.n_cities": 300, "run.steps": 20, "run.replicates": 3}
    )
    ensemble = ds.simulate_ensemble(scenario)
    folder = ensemble.save(tmp_path / "e", chart_format="pdf", figsize=(9, 6))
    for name in ("band.pdf", "curves.pdf"):
        assert (folder / name).read_bytes()[:5] == b"%PDF-"
    assert not list(folder.glob("replicate-*/curves.*"))  # drawn once, for the ensemble
    band, curves = captured[-2:]
    assert len(_dashed_at(band.axes[0], 17)) == 1
    assert "3 replicates" in curves.get_suptitle()
    assert tuple(curves.get_size_inches()) == (9, 6)


def test_a_streamed_ensemble_from_the_cli_draws_its_charts_in_the_format_asked(tmp_path):
    from diffusion_sim.cli import main

    argv = ["run", str(SCENARIOS / "us_paris_withdrawal.toml"), "--steps", "20", "--quiet"]
    argv += ["--set", "world.n_cities=300", "--replicates", "2", "--workers", "1"]
    assert main([*argv, "--out", str(tmp_path), "--format", "svg"]) == 0
    (folder,) = tmp_path.iterdir()
    for name in ("band.svg", "curves.svg"):
        assert (folder / name).read_bytes()[:5] == b"<?xml"
    assert not list(folder.glob("*.png")) and not list(folder.glob(".*"))
