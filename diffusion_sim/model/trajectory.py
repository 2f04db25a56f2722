"""The raw record of a run, the same shape from either engine.

A run is fully described by its change events (step, who, +1 adopt / -1 drop,
channel) plus the setup; every table in :mod:`diffusion_sim.record.results` is
derived from them, so the engines' agreement is checked on this record alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diffusion_sim.mechanisms.embedded import CHANNELS

ADOPT, DROP = 1, -1
GOV_ADOPT, GOV_WITHDRAW, GOV_STANCE = 1, -1, 0
NO_SOURCE = -1
"""Source of an adoption on the city's own initiative (innovation) and of every drop."""
EVENT_SOURCE = -2
"""Source of an adoption a scheduled event caused (pioneers)."""


@dataclass(eq=False)
class Trajectory:
    """Concatenated change events of a run."""

    steps: int
    city_step: np.ndarray
    city: np.ndarray
    city_change: np.ndarray
    city_channel: np.ndarray
    city_source: np.ndarray
    """What carried the change (:mod:`diffusion_sim.model.provenance`): a city for a horizontal
    adoption, a government for a vertical or hierarchical one, EVENT_SOURCE or NO_SOURCE."""
    city_source_rest: np.ndarray
    """For a horizontal adoption, the rest of its uniform, which picks the tie layer."""
    gov_step: np.ndarray
    gov: np.ndarray
    gov_change: np.ndarray
    gov_channel: np.ndarray
    gov_value: np.ndarray
    """For stance changes: the new stance code; for adoptions: 1 if with a mandate."""


def _column(values: np.ndarray | float, n: int, dtype: type) -> np.ndarray:
    """``values`` as n entries of ``dtype`` (a number repeated, or the array itself)."""
    if np.ndim(values) == 0:
        return np.full(n, values, dtype=dtype)
    return np.asarray(values, dtype=dtype)


class Recorder:
    """Collects change events step by step; cheap to append, concatenated once."""

    def __init__(self) -> None:
        self._city: list[tuple[np.ndarray, ...]] = []
        self._gov: list[tuple] = []

    def cities(
        self,
        step: int,
        cities: np.ndarray,
        change: int,
        channels: np.ndarray,
        sources: np.ndarray | int = NO_SOURCE,
        rest: np.ndarray | float = 0.0,
    ) -> None:
        if len(cities):
            n = len(cities)
            self._city.append(
                (
                    np.full(n, step, dtype=np.int32),
                    np.asarray(cities, dtype=np.int64),
                    np.full(n, change, dtype=np.int8),
                    np.asarray(channels, dtype=np.int8),
                    _column(sources, n, np.int64),
                    _column(rest, n, np.float64),
                )
            )

    def government(self, step: int, gov: int, change: int, channel: str, value: int = 0) -> None:
        self._gov.append((step, gov, change, CHANNELS.index(channel), value))

    def finish(self, steps: int) -> Trajectory:
        if self._city:
            parts = [np.concatenate(column) for column in zip(*self._city, strict=True)]
        else:
            kinds = (np.int32, np.int64, np.int8, np.int8, np.int64, np.float64)
            parts = [np.empty(0, dtype=t) for t in kinds]
        gov = np.array(self._gov, dtype=np.int64).reshape(-1, 5)
        return Trajectory(
            steps,
            *parts,
            gov_step=gov[:, 0].astype(np.int32),
            gov=gov[:, 1],
            gov_change=gov[:, 2].astype(np.int8),
            gov_channel=gov[:, 3].astype(np.int8),
            gov_value=gov[:, 4].astype(np.int8),
        )
