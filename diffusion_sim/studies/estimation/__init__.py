"""Estimation: maximum likelihood of the model's own hazard from per-city adoption histories.

diffusion_sim's model is a discrete-time hazard model: given who had adopted at
the start of a step, every city's hazard of adopting is known. So the observed
histories (a run's own events, or a ``city,date`` file) have an exact
likelihood under the model, which this package maximises for the mechanism
parameters a user names, with standard errors from the observed information,
a likelihood-ratio comparison of tie layers ("which network carried it"), the
probability of each channel and layer per adoption, and the panel that
event-history analysts fit (docs/estimation.md).

Modules, in the order of the work: :mod:`.matching` and :mod:`.histories` (the
data), :mod:`.timeline` (cells at risk and their governments, by replaying the
scenario's events), :mod:`.exposure` (adopted neighbours per tie layer, built
once), :mod:`.parameters`, :mod:`.likelihood` (the mechanisms' own rules and
composition), :mod:`.fit` (scipy, statsmodels), :mod:`.layers`,
:mod:`.attribution`, :mod:`.panel`, :mod:`.report`, :mod:`.study` (``estimate``).
"""

from diffusion_sim.studies.estimation.histories import (
    Histories,
    histories_from_result,
    histories_to_csv,
    read_histories,
)
from diffusion_sim.studies.estimation.report import Estimate
from diffusion_sim.studies.estimation.study import (
    Prepared,
    estimate,
    export_panel,
    parameter_keys,
    prepare,
)

__all__ = [
    "Estimate",
    "Histories",
    "Prepared",
    "estimate",
    "export_panel",
    "histories_from_result",
    "histories_to_csv",
    "parameter_keys",
    "prepare",
    "read_histories",
]
