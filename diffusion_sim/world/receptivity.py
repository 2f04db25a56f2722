"""Country receptivity: how readily a country's cities take up the policy, read from data.

Adoption of the Covenant of Mayors is concentrated by country far beyond what a
city's capacity and leaning explain: by December 2014 Italy had 574 signatories of
15,000+ inhabitants for 658 such cities in the world, Germany 61 for 1,139
(``benchmarks/covenant_by_country.py``). A model that spreads one hazard over every
country cannot see that Italy's pool is nearly full, so it forecasts no slowdown.
Unobserved heterogeneity shared by the cities of a country is a *shared frailty*
(Vaupel, Manton & Stallard 1979; Hougaard 2000, ch. 7): a factor on the hazard of
every city of the country. Here it is estimated from the signatories of a period
(for a forecast: the training rows only), shrunk towards the mean as in the
Gamma-Poisson empirical Bayes of Clayton & Kaldor (1987), and turned into a hazard:

    share_c = (a_c + K * a / n) / (n_c + K)          (shrunk share of country c adopted)
    h_c     = -ln(1 - share_c)                        (constant hazard giving that share)
    r_c     = (h_c / max_d h_d) ** beta               (receptivity of every city of c)

with a_c the data's adopters in c (at most n_c - 1/2), n_c the world's cities in c,
a and n their totals, K = :data:`PRIOR_CITIES`, and beta the exponent: 0 gives every
city 1 (no country effect), 1 the data's contrasts in full. Within a country every
city keeps its own capacity and leaning; the most receptive country has r = 1, so
the factor only lowers hazards and the fitted rates carry the level. How beta is
chosen (the map of where the training adopters are): docs/calibration.md.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from diffusion_sim.world import World

PRIOR_CITIES = 20.0
"""K: cities' worth of the European mean each country's share is shrunk towards."""


def country_hazards(
    adopters: pd.Series, cities: pd.Series, prior_cities: float = PRIOR_CITIES
) -> pd.Series:
    """h_c = -ln(1 - shrunk share adopted), per country (index: the countries of ``cities``).

    ``adopters`` counts the data's adopters per country (countries it lacks count 0;
    countries not in ``cities`` are ignored); ``cities`` the world's cities per country.
    """
    cities = cities[cities > 0].astype(float)
    counts = adopters.reindex(cities.index, fill_value=0).astype(float)
    counts = counts.clip(upper=cities - 0.5)  # the data can name more than the world has
    mean = counts.sum() / cities.sum()
    share = (counts + prior_cities * mean) / (cities + prior_cities)
    return -np.log1p(-share)


def receptivity_of(world: World, adopters: pd.Series, exponent: float) -> np.ndarray:
    """Per city: r_c of its country (module docstring), from adopters per country name.

    ``adopters`` is indexed like ``world.country_names``; a city with no country gets 1.
    """
    if not 0.0 <= exponent <= 1.0:
        raise ValueError(f"the receptivity exponent must lie in [0, 1], got {exponent!r}")
    names = np.asarray(world.country_names, dtype=object)
    has = world.country >= 0
    cities = pd.Series(names[world.country[has]]).value_counts()
    hazard = country_hazards(adopters, cities)
    out = np.ones(world.n_cities)
    if hazard.max() > 0:  # no adopter anywhere: no contrast to scale by
        relative = (hazard / hazard.max()) ** exponent
        out[has] = relative.reindex(names[world.country[has]]).to_numpy()
    return out


def with_receptivity(world: World, adopters: pd.Series, exponent: float) -> World:
    """The world whose cities carry :func:`receptivity_of` (exponent 0: the world as is)."""
    if exponent == 0:
        return world
    return replace(world, receptivity=receptivity_of(world, adopters, exponent))
