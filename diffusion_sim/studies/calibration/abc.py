"""The posterior: ABC-SMC (pyabc) with an explicit noise model, on common random numbers.

Each evaluation is the mean over R fixed replicate seeds, a deterministic function
of the fitted values. The observed curve is one realisation of the process, so
it differs from that mean by the process's own noise. That noise is the kernel:
a multivariate normal on summary statistics (the adoptions in K windows of the
curve, and of the coordinated curve when the data has one) whose covariance is
measured from M extra replicates at the point fit, times (1 + 1/R) for the mean's
own error. pyabc's StochasticAcceptor with a Temperature schedule then samples
the exact posterior under that noise model (Wilkinson 2013), annealing the
temperature to 1 in the last generation. When the point fit misses the data by
more than the noise explains (a model that cannot reproduce the curve), each
target's covariance is widened by its misfit (chi-square per statistic), so the
intervals say how sure the fit is about *this* model, not more.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from diffusion_sim.studies.calibration.keys import Prior
from diffusion_sim.studies.calibration.model import Evaluation, Evaluator

WINDOWS = 8
"""Windows per target: few enough for a covariance measured from ``PILOT`` replicates."""
PILOT = 40
"""Replicates at the point fit that measure the noise covariance."""
SHRINK = 0.1
"""Shrinkage of the measured covariance towards its diagonal (stabilises its inverse)."""


def windows(n_steps: int, k: int = WINDOWS) -> np.ndarray:
    """Indices of the last step of each of ``k`` (nearly) equal windows of the curve."""
    ends = np.unique(np.linspace(0, n_steps, min(k, n_steps) + 1).round().astype(int)[1:])
    return ends - 1


def statistics(curve: np.ndarray, coordinated: np.ndarray | None, ends: np.ndarray) -> np.ndarray:
    """Adoptions (as shares of the world's cities) per window, for each target."""
    parts = [np.diff(curve[..., ends], prepend=0.0, axis=-1)]
    if coordinated is not None:
        parts.append(np.diff(coordinated[..., ends], prepend=0.0, axis=-1))
    return np.concatenate(parts, axis=-1)


@dataclass
class NoiseModel:
    """The kernel's covariance, and how much it was widened for misfit (per target)."""

    cov: np.ndarray
    inflation: list[float]
    targets: list[str]
    chi2: list[float]
    curve_sd: float = 0.0
    """One run's spread around the mean curve: RMS over steps of the replicates' SD."""


def noise_model(
    evaluator: Evaluator,
    best: Sequence[float],
    fitted: Evaluation,
    observed: np.ndarray,
    ends: np.ndarray,
    joint: bool,
    pilot_seeds: Sequence[np.random.SeedSequence],
) -> NoiseModel:
    """Covariance of one realisation's statistics around the mean of R, at the point fit."""
    pilot = evaluator(best, seeds=pilot_seeds)
    stats = statistics(pilot.curves, pilot.vertical if joint else None, ends)
    cov = np.atleast_2d(np.cov(stats, rowvar=False))
    cov = (1 - SHRINK) * cov + SHRINK * np.diag(np.diag(cov))
    floor = (1.0 / evaluator.world.n_cities) ** 2  # one city: no window is noiseless
    cov = cov + np.eye(len(cov)) * floor
    cov = cov * (1 + 1 / len(evaluator.seeds))
    model = statistics(fitted.mean, fitted.vertical_mean if joint else None, ends)
    residual = observed - model
    k = len(ends)
    blocks = [slice(0, k)] + ([slice(k, 2 * k)] if joint else [])
    scale = np.ones(len(cov))
    chi2s, inflation = [], []
    for block in blocks:
        sub = cov[block, block]
        chi2 = float(residual[block] @ np.linalg.solve(sub, residual[block]))
        factor = max(1.0, chi2 / k)
        scale[block] = math.sqrt(factor)
        chi2s.append(chi2)
        inflation.append(factor)
    targets = ["curve", "coordinated"][: len(blocks)]
    curve_sd = float(np.sqrt(np.mean(np.var(pilot.curves, axis=0, ddof=1))))
    return NoiseModel(cov * np.outer(scale, scale), inflation, targets, chi2s, curve_sd)


@dataclass
class Posterior:
    """The last ABC-SMC population: weighted parameter samples and what they simulate."""

    keys: list[str]
    priors: list[Prior]
    values: np.ndarray
    """(n, p) in natural units."""
    weights: np.ndarray
    channels: np.ndarray
    """(n, len(ADOPTION_CHANNELS)): share of adopters by channel at the end."""
    curves: np.ndarray
    """(n, R, T+1): each particle's replicate curves."""
    vertical: np.ndarray
    evaluations: int
    generations: int
    temperatures: list[float] = field(default_factory=list)
    database: Path | None = None
    world_seed: np.ndarray | None = None
    """(n,): the world seed each particle was simulated on (a mixture over world seeds)."""
    databases: list[Path] = field(default_factory=list)
    """pyabc's files of a mixture, one per world seed (``database`` is None then)."""

    @property
    def z(self) -> np.ndarray:
        return np.column_stack(
            [
                np.log(self.values[:, i]) if p.log else self.values[:, i]
                for i, p in enumerate(self.priors)
            ]
        )

    @property
    def ess(self) -> float:
        w = self.weights / self.weights.sum()
        return float(1.0 / np.sum(w**2))


class _Progress:
    """A tqdm bar (stderr) over simulations, fed from any process through a shared counter."""

    def __init__(self, label: str, generations: int, population: int, enabled: bool) -> None:
        from multiprocessing import get_context

        self.counter = get_context("fork").Value("q", 0)
        self.generations, self.population = generations, population
        self.enabled = enabled
        self.done_before = 0
        self.gens_done = 0
        self._stop = threading.Event()
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=population * (generations + 1) * 2,
                desc=label,
                unit="sim",
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
                mininterval=1.0,
            )
            self.thread = threading.Thread(target=self._poll, daemon=True)
            self.thread.start()

    def tick(self) -> None:
        with self.counter.get_lock():
            self.counter.value += 1

    def generation_done(self, t: int, evaluations: int) -> None:
        """Re-estimate the total from the last generation's cost (the ETA follows)."""
        self.gens_done += 1
        if self.bar is not None and t >= 0:
            left = max(self.generations - t - 1, 0)
            self.bar.total = max(self.counter.value + left * evaluations, self.counter.value)
            self.bar.set_postfix_str(f"generation {t + 1}/{self.generations}")

    def _poll(self) -> None:
        while not self._stop.wait(0.5):
            self._sync()

    def _sync(self) -> None:
        if self.bar is not None:
            value = self.counter.value
            if value > self.bar.n:
                self.bar.update(value - self.bar.n)

    def close(self) -> None:
        self._stop.set()
        if self.bar is not None:
            self._sync()
            self.bar.close()


def _sampler(workers: int, on_generation: Callable[[int, int], None]):
    from pyabc.sampler import MulticoreEvalParallelSampler, SingleCoreSampler

    base = SingleCoreSampler if workers <= 1 else MulticoreEvalParallelSampler

    class Tracked(base):  # type: ignore[misc, valid-type]
        """The pyabc sampler, telling the progress bar when a generation ends."""

        def sample_until_n_accepted(self, n, simulate_one, t, **kwargs):
            sample = super().sample_until_n_accepted(n, simulate_one, t, **kwargs)
            on_generation(t, self.nr_evaluations_)
            return sample

    return Tracked() if workers <= 1 else Tracked(n_procs=workers)


def run_abc(
    evaluator: Evaluator,
    priors: Sequence[Prior],
    observed: np.ndarray,
    noise: NoiseModel,
    ends: np.ndarray,
    joint: bool,
    *,
    population: int,
    generations: int,
    workers: int,
    database: Path | None,
    seed: np.random.SeedSequence,
    progress: bool,
    label: str,
) -> Posterior:
    """ABC-SMC with pyabc: priors uniform in each key's z, a normal kernel, tempered to 1."""
    import logging

    import pyabc
    from pyabc.acceptor import StochasticAcceptor
    from pyabc.distance import NormalKernel
    from pyabc.epsilon import Temperature

    for name in ("ABC", "pyabc"):
        logging.getLogger(name).setLevel(logging.WARNING)
    names = [f"z{i}" for i in range(len(priors))]
    prior = pyabc.Distribution(
        **{
            name: pyabc.RV("uniform", p.z_bounds[0], p.z_bounds[1] - p.z_bounds[0])
            for name, p in zip(names, priors, strict=True)
        }
    )
    bar = _Progress(label, generations, population, progress)

    def model(parameter: dict) -> dict:
        values = [p.from_z(float(parameter[n])) for n, p in zip(names, priors, strict=True)]
        evaluation = evaluator(values)
        bar.tick()
        return {
            "stats": statistics(evaluation.mean, evaluation.vertical_mean if joint else None, ends),
            "curves": evaluation.curves,
            "vertical": evaluation.vertical,
            "channels": evaluation.channel_shares,
        }

    abc = pyabc.ABCSMC(
        model,
        prior,
        NormalKernel(cov=noise.cov, keys=["stats"]),
        population_size=population,
        eps=Temperature(),
        acceptor=StochasticAcceptor(),
        sampler=_sampler(workers, bar.generation_done),
    )
    # pyabc draws from numpy's global generator: seed it from the calibration's sequence
    # (reproducible with one worker; worker processes reseed themselves).
    np.random.seed(seed.generate_state(1)[0])  # noqa: NPY002 (pyabc reads the global one)
    url = f"sqlite:///{database}" if database is not None else "sqlite://"
    try:
        abc.new(url, {"stats": observed})
        history = abc.run(max_nr_populations=generations)
    finally:
        bar.close()
    last = history.get_population(t=history.max_t)
    particles = last.particles
    values = np.array(
        [
            [p.from_z(float(pt.parameter[n])) for n, p in zip(names, priors, strict=True)]
            for pt in particles
        ]
    )
    posterior = Posterior(
        keys=[k.key for k in evaluator.keys],
        priors=list(priors),
        values=values,
        weights=np.array([pt.weight for pt in particles], dtype=float),
        channels=np.array([np.asarray(pt.sum_stat["channels"]) for pt in particles]),
        curves=np.array([np.asarray(pt.sum_stat["curves"]) for pt in particles]),
        vertical=np.array([np.asarray(pt.sum_stat["vertical"]) for pt in particles]),
        evaluations=int(history.total_nr_simulations),
        generations=int(history.n_populations),
        temperatures=[float(t) for t in abc.eps.temperatures.values()],
        database=database,
    )
    return posterior


def weighted_quantiles(x: np.ndarray, weights: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """Quantiles of ``x`` along axis 0 under weights (mid-point interpolated ECDF).

    For a 2-D ``x`` the result is (len(q), columns).
    """
    if x.ndim == 2:
        return np.column_stack([weighted_quantiles(x[:, j], weights, q) for j in range(x.shape[1])])
    order = np.argsort(x)
    xs, w = x[order], weights[order]
    cum = np.cumsum(w)
    cum = (cum - 0.5 * w) / cum[-1]
    return np.interp(q, cum, xs)


def weighted_corr(z: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted correlation matrix of the columns of ``z``."""
    w = weights / weights.sum()
    centred = z - w @ z
    cov = (centred * w[:, None]).T @ centred
    sd = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    return cov / np.outer(sd, sd)
