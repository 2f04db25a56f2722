"""Every chart the CLI and the dashboard write: a time axis with its unit, legends off the data."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import diffusion_sim as ds
from diffusion_sim import plotting
from diffusion_sim.plotting import legend_overlaps, step_label

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
    from diffusion_sim.app.figures import compare_figure
    from diffusion_sim.app.session import LiveRun
    from diffusion_sim.app.views import CurvesCanvas

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
