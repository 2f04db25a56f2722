"""Scenario sections: the world, its networks and Kern's mechanisms (pydantic models).

Every parameter carries its meaning, unit, default and allowed range in its
``Field``; ``diffusion-sim validate --explain`` and docs/parameters.md print them
from here, so the schema is the single source of truth.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from diffusion_sim.scenario.types import Label, Section

MAX_CITIES = 5_000_000
"""Most cities in a world (and so in a network, a pioneer count, a voice)."""
MAX_STEPS = 100_000
"""Most steps a run may have (run.steps); later steps never come."""

# --------------------------------------------------------------------- world


class Ladder(Section):
    """Cut-offs that place a city among Kern's leaders, followers and laggards."""

    leader_cutoff: float = Field(
        0.42,
        ge=0,
        le=1,
        description="readiness (geometric mean of capacity and leaning) at or above "
        "which a city is a leader",
    )
    laggard_cutoff: float = Field(
        0.30,
        ge=0,
        le=1,
        description="readiness below which a city is a laggard; between the cut-offs "
        "it is a follower",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Ladder:
        if self.laggard_cutoff > self.leader_cutoff:
            raise ValueError("laggard_cutoff must not exceed leader_cutoff")
        return self


class WorldSpec(Section):
    """How the world of cities is built (arrays and sparse ties, fixed for a run)."""

    generator: Literal["synthetic", "real"] = Field(
        "synthetic",
        description="'synthetic': Zipf cities in generated countries; 'real': "
        "cities from an installed data package",
    )
    seed: int | None = Field(
        None,
        ge=0,
        le=2**63 - 1,
        description="seed of the world; defaults to run.seed, so replicates share one world",
    )
    n_cities: int = Field(2000, ge=2, le=MAX_CITIES, description="number of cities")
    n_countries: int = Field(12, ge=1, le=500, description="number of countries (nations)")
    regions_per_country: int = Field(
        4, ge=1, le=100, description="regions (first-level divisions) per country, at most"
    )
    country_size_exponent: float = Field(
        1.0,
        ge=0,
        le=3,
        description="countries get cities in proportion to rank^-exponent (0: equal sizes)",
    )
    zipf_exponent: float = Field(
        1.0,
        gt=0,
        le=3,
        description="city populations follow rank^-exponent (Zipf's law: about 1)",
    )
    largest_population: int = Field(
        20_000_000,
        ge=1,
        le=1_000_000_000,
        description="population of the largest city (inhabitants)",
    )
    bloc_share: float = Field(
        0.5, ge=0, le=1, description="share of countries that belong to the bloc (an EU)"
    )
    proximity_neighbours: int = Field(
        4, ge=0, le=100, description="nearest neighbours each city is tied to (proximity layer)"
    )
    twinning_per_city: float = Field(
        0.5, ge=0, le=20, description="mean number of twinning ties per city"
    )
    # -- filters of the real world (generator = "real"; ignored by "synthetic")
    continents: tuple[Literal["AF", "AN", "AS", "EU", "NA", "OC", "SA"], ...] = Field(
        (),
        strict=False,
        description="real world: keep cities on these continents (GeoNames codes; empty: all)",
    )
    countries: tuple[Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")], ...] = Field(
        (),
        strict=False,
        max_length=300,
        description="real world: keep cities in these countries (ISO 3166-1 alpha-2 "
        "codes; empty: all); combined with continents by intersection",
    )
    min_population: int = Field(
        15_000,
        ge=500,
        le=1_000_000_000,
        description="real world: keep cities of at least this many inhabitants (GeoNames' "
        "tables stop at 500, 1,000, 5,000 and 15,000)",
    )
    bbox: tuple[float, float, float, float] | None = Field(
        None,
        strict=False,
        description="real world: keep cities inside [west, south, east, north] (degrees)",
    )
    max_cities: int | None = Field(
        None,
        ge=2,
        le=MAX_CITIES,
        description="real world: keep only this many of the largest cities left by the "
        "filters (for small test worlds)",
    )
    ladder: Ladder = Ladder()

    @model_validator(mode="after")
    def _bbox_ordered(self) -> WorldSpec:
        if self.bbox is not None:
            west, south, east, north = self.bbox
            if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south < north <= 90):
                raise ValueError(
                    "bbox must be [west, south, east, north] with -180 <= lon <= 180 "
                    "and -90 <= south < north <= 90"
                )
        return self


# ------------------------------------------------------------------ networks


class NetworkSpec(Section):
    """A city network and its membership rule."""

    rule: Literal["open", "exclusive", "regional", "national", "umbrella", "coordinated"] = Field(
        "open",
        description="open: cities most inclined to the policy join; exclusive: the "
        "largest cities (like C40); regional: large cities of the bloc (like Eurocities); "
        "national: a municipal association in every country (ties within it); umbrella: "
        "the leading members of every national association, tied across borders (like "
        "UCLG); coordinated: open, but "
        "regions act as coordinators that bring their municipalities in together (like "
        "the Covenant of Mayors' coordinating provinces)",
    )
    coordinated_share: float = Field(
        0.6,
        ge=0,
        le=1,
        description="coordinated: share of members brought in by a coordinating region "
        "(Covenant of Mayors: 61%)",
    )
    size: int = Field(
        100,
        ge=0,
        le=MAX_CITIES,
        description="members (for 'national': members per country, at most)",
    )
    monitors: bool = Field(
        False, description="publishes members' commitments, which lowers abandonment"
    )
    lobbies: bool = Field(False, description="lobbies governments, which feeds vertical upscaling")
    tie_weight: float = Field(1.0, ge=0, le=10, description="weight of a tie between two members")
    max_ties_per_member: int = Field(
        8,
        ge=1,
        le=1000,
        description="a member is tied to at most this many co-members (sparsified)",
    )
    founded_step: int = Field(
        0,
        ge=0,
        le=MAX_STEPS,
        description="step at which the network exists (0: from the start; at most run.steps)",
    )


# ---------------------------------------------------------------- mechanisms


class Innovation(Section):
    """Pioneers adopting on their own."""

    enabled: bool = Field(True, description="switch")
    rate: float = Field(
        0.002,
        ge=0,
        le=1,
        description="hazard per step of a city with capacity 1 and leaning 1; scales "
        "with capacity x leaning",
    )


class Pioneers(Section):
    """Cities that have the policy at step 0 (whichever mechanisms are on)."""

    count: int = Field(
        5,
        ge=0,
        le=MAX_CITIES,
        description="this many cities with the highest capacity x leaning adopt at step 0",
    )
    cities: tuple[Label, ...] = Field(
        (), strict=False, max_length=100_000, description="and these cities, by name"
    )


class Thresholds(Section):
    """Per-city adoption thresholds for the threshold rule."""

    distribution: Literal["normal", "uniform", "fixed"] = Field(
        "normal", description="shape of the threshold distribution"
    )
    mean: float = Field(0.22, ge=0, le=1, description="mean threshold (share of neighbours)")
    spread: float = Field(0.1, ge=0, le=1, description="sd for 'normal', half-width for 'uniform'")
    readiness_effect: float = Field(
        2.0,
        ge=0,
        le=5,
        description="threshold lowered by readiness_effect x (readiness - 0.5): cities "
        "able and willing to act need fewer adopting peers",
    )


class Horizontal(Section):
    """Peer influence over city-city ties."""

    enabled: bool = Field(True, description="switch")
    rule: Literal["threshold", "contagion"] = Field(
        "threshold",
        description="threshold: adopt when the weighted share of adopting neighbours "
        "reaches the city's threshold; contagion: each adopting neighbour persuades "
        "with probability strength x weight",
    )
    strength: float = Field(
        0.1, ge=0, le=1, description="contagion: persuasion probability per unit tie weight"
    )
    prestige_alpha: float = Field(
        0.5,
        ge=0,
        le=2,
        description="an adopter's influence scales with (population / mean)^alpha; 0: "
        "every neighbour counts alike",
    )
    proximity_weight: float = Field(1.0, ge=0, le=10, description="weight of proximity ties")
    twinning_weight: float = Field(1.0, ge=0, le=10, description="weight of twinning ties")
    network_weight: float = Field(
        1.0, ge=0, le=10, description="multiplier on every network's tie_weight"
    )
    thresholds: Thresholds = Thresholds()


class Vertical(Section):
    """Two-way relations between cities and governments."""

    enabled: bool = Field(True, description="switch")
    bottom_up_rate: float = Field(
        0.05,
        ge=0,
        le=1,
        description="government hazard per step when all its population has adopted "
        "(scaled by stance response)",
    )
    lobbying_weight: float = Field(
        0.5,
        ge=0,
        le=10,
        description="weight of the share of its cities that adopted and belong to a "
        "lobbying network",
    )
    top_down_rate: float = Field(
        0.05,
        ge=0,
        le=1,
        description="city hazard per step per unit of support from governments above "
        "it, scaled by readiness",
    )
    deterrence: float = Field(
        0.5,
        ge=0,
        le=1,
        description="each hostile government above a city multiplies its voluntary "
        "hazards by (1 - deterrence)",
    )
    voice_saturation: int = Field(
        0,
        ge=0,
        le=MAX_CITIES,
        description="a lobbying network speaks with full voice from this many members, "
        "with less below (members / this); 0: every lobbying network has full voice",
    )
    hostile_response: float = Field(
        0.0, ge=0, le=1, description="bottom-up response of a hostile government"
    )
    neutral_response: float = Field(
        0.5, ge=0, le=1, description="bottom-up response of a neutral government"
    )
    supportive_response: float = Field(
        1.0, ge=0, le=1, description="bottom-up response of a supportive government"
    )


class Hierarchical(Section):
    """Mandates from governments that adopt, and preemption by hostile ones."""

    enabled: bool = Field(True, description="switch")
    compliance_steps: int = Field(
        24,
        ge=1,
        le=10_000,
        description="every city under a mandate complies within this many steps "
        "(hazard 1/(steps left))",
    )
    government_rate: float = Field(
        0.01,
        ge=0,
        le=1,
        description="hazard per step that a supportive government harmonizes on its own "
        "(neutral: half of it); 0.01 lets hierarchical upscaling act without vertical "
        "pressure (about a third of neutral governments within 6 years of monthly steps)",
    )
    mandate_levels: tuple[Literal["region", "nation", "bloc", "global"], ...] = Field(
        ("region", "nation", "bloc"),
        strict=False,
        description="levels whose adoption is a mandate for the municipalities below",
    )
    preemption_enforcement: float = Field(
        1.0,
        ge=0,
        le=1,
        description="hazard per step that a non-defiant adopter under a preempting "
        "government drops the policy",
    )
    defiance: float = Field(
        0.5,
        ge=0,
        le=1,
        description="a city defies preemption with probability defiance x leaning "
        "(decoupling, drawn once per run)",
    )


class Abandonment(Section):
    """Voluntary adopters dropping a soft commitment."""

    enabled: bool = Field(True, description="switch")
    rate: float = Field(0.005, ge=0, le=1, description="hazard per step of a voluntary adopter")
    monitoring_reduction: float = Field(
        0.7,
        ge=0,
        le=1,
        description="share of that hazard removed for members of a monitoring network",
    )


class Novelty(Section):
    """Attention to the policy fading with its age (Wu & Huberman 2007)."""

    enabled: bool = Field(False, description="switch")
    tau: float = Field(
        120.0,
        ge=1,
        le=1e4,
        description="steps for every voluntary hazard (innovation, horizontal, top-down "
        "support) to fall by a factor e: x exp(-(t - launch) / tau) after the launch",
    )
    launch: int = Field(
        0, ge=0, description="step at which the policy appeared; hazards undecayed until then"
    )


class Mechanisms(Section):
    """Kern's types of upscaling; 'embedded' is all of them on at once."""

    innovation: Innovation = Innovation()
    horizontal: Horizontal = Horizontal()
    vertical: Vertical = Vertical()
    hierarchical: Hierarchical = Hierarchical()
    abandonment: Abandonment = Abandonment()
    novelty: Novelty = Novelty()
    opposition_leaning: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="cities with leaning at or below this are opposed: no voluntary channel "
        "(innovation, horizontal, top-down support) moves them, only mandates; susceptibility "
        "rises linearly to 1 at this + 0.1 (adoption ceilings); 0: every city fully susceptible",
    )
