"""Scenario files: TOML parsed into a frozen, validated object, never executed.

Every parameter carries its meaning, unit, default and allowed range in its
``Field``; ``diffusion-sim validate --explain`` and docs/parameters.md print them
from here, so the schema is the single source of truth.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from diffusion_sim.errors import InputError

LEVELS: tuple[str, ...] = ("region", "nation", "bloc", "global")
"""Levels of government, from the lowest to the highest."""

Stance = Literal["hostile", "neutral", "supportive"]


class Section(BaseModel):
    """Base for every scenario section: frozen, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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
        description="seed of the world; defaults to run.seed, so replicates share one world",
    )
    n_cities: int = Field(2000, ge=2, le=5_000_000, description="number of cities")
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
        20_000_000, ge=1, description="population of the largest city (inhabitants)"
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
        description="real world: keep cities on these continents (GeoNames codes; empty: all)",
    )
    countries: tuple[Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")], ...] = Field(
        (),
        description="real world: keep cities in these countries (ISO 3166-1 alpha-2 "
        "codes; empty: all); combined with continents by intersection",
    )
    min_population: int = Field(
        15_000,
        ge=500,
        description="real world: keep cities of at least this many inhabitants (GeoNames' "
        "tables stop at 500, 1,000, 5,000 and 15,000)",
    )
    bbox: tuple[float, float, float, float] | None = Field(
        None,
        description="real world: keep cities inside [west, south, east, north] (degrees)",
    )
    max_cities: int | None = Field(
        None,
        ge=2,
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
        100, ge=0, description="members (for 'national': members per country, at most)"
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
        0, ge=0, description="step at which the network exists (0: from the start)"
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
        description="this many cities with the highest capacity x leaning adopt at step 0",
    )
    cities: tuple[str, ...] = Field((), description="and these cities, by name")


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
        0.0,
        ge=0,
        le=1,
        description="hazard per step that a supportive government harmonizes on its own "
        "(neutral: half of it)",
    )
    mandate_levels: tuple[Literal["region", "nation", "bloc", "global"], ...] = Field(
        ("region", "nation", "bloc"),
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


class Mechanisms(Section):
    """Kern's types of upscaling; 'embedded' is all of them on at once."""

    innovation: Innovation = Innovation()
    horizontal: Horizontal = Horizontal()
    vertical: Vertical = Vertical()
    hierarchical: Hierarchical = Hierarchical()
    abandonment: Abandonment = Abandonment()


# ---------------------------------------------------------------- governments


class GovernmentOverride(Section):
    """Starting state of one named government."""

    stance: Stance | None = Field(None, description="stance at step 0")
    adopted: bool = Field(False, description="has the policy at step 0")
    preempts: bool = Field(
        False, description="forbids the policy to the municipalities below while hostile"
    )


class Governments(Section):
    """Levels of government present and their starting stances."""

    levels: tuple[Literal["region", "nation", "bloc", "global"], ...] = Field(
        ("region", "nation", "bloc"), description="levels of government present"
    )
    region: Stance = Field("neutral", description="default stance of regions")
    nation: Stance = Field("neutral", description="default stance of nations")
    bloc: Stance = Field("supportive", description="default stance of the bloc")
    global_: Stance = Field(
        "neutral", alias="global", description="default stance of the global level"
    )
    overrides: dict[str, GovernmentOverride] = Field(
        default_factory=dict, description="per-government starting state, by name"
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def default_stance(self, level: str) -> str:
        return self.global_ if level == "global" else getattr(self, level)


# --------------------------------------------------------------------- events


class _Event(Section):
    step: int = Field(ge=1, description="step at which it happens (before that step's draws)")


class StanceEvent(_Event):
    """A government changes stance (e.g. a nation turns hostile and preempts)."""

    kind: Literal["stance"]
    government: str = Field(description="name of the government")
    stance: Stance = Field(description="the new stance")
    preempts: bool = Field(False, description="forbids the policy while hostile")


class GovernmentAdoptsEvent(_Event):
    """A government adopts the policy (with a mandate where its level mandates)."""

    kind: Literal["government_adopts"]
    government: str = Field(description="name of the government")


class GovernmentWithdrawsEvent(_Event):
    """A government drops the policy and its mandate (e.g. the 2017 US withdrawal)."""

    kind: Literal["government_withdraws"]
    government: str = Field(description="name of the government")


class NetworkFoundedEvent(_Event):
    """A network starts: its ties and memberships count from this step."""

    kind: Literal["network_founded"]
    network: str = Field(description="name of a network in [networks]; its ties start now")


class NetworkOpensEvent(_Event):
    """A network opens its membership to more cities."""

    kind: Literal["network_opens"]
    network: str = Field(description="name of a network in [networks]")
    size: int = Field(ge=1, description="members after opening")


class SummitEvent(_Event):
    """A summit multiplies horizontal influence for a while (e.g. COP mayors' summits)."""

    kind: Literal["summit"]
    boost: float = Field(ge=1, le=100, description="multiplier on horizontal influence")
    duration: int = Field(1, ge=1, description="steps the boost lasts")


class PioneersEvent(_Event):
    """Named cities (or the most ready ones) adopt at this step."""

    kind: Literal["pioneers"]
    cities: tuple[str, ...] = Field(default=(), description="names of cities that adopt")
    count: int = Field(
        0, ge=0, description="or: this many non-adopters with the highest readiness adopt"
    )


EVENT_MODELS = (
    StanceEvent,
    GovernmentAdoptsEvent,
    GovernmentWithdrawsEvent,
    NetworkFoundedEvent,
    NetworkOpensEvent,
    SummitEvent,
    PioneersEvent,
)

Event = Annotated[
    StanceEvent
    | GovernmentAdoptsEvent
    | GovernmentWithdrawsEvent
    | NetworkFoundedEvent
    | NetworkOpensEvent
    | SummitEvent
    | PioneersEvent,
    Field(discriminator="kind"),
]


# ------------------------------------------------------------------- run/policy


class Policy(Section):
    name: str = Field("A local climate policy", description="what spreads")
    description: str = Field("", description="a sentence on the policy")


class Run(Section):
    steps: int = Field(100, ge=1, le=100_000, description="steps to simulate")
    step_unit: str = Field("month", description="what one step means in time")
    seed: int = Field(0, ge=0, description="seed of the run (and of the world unless world.seed)")
    replicates: int = Field(1, ge=1, le=100_000, description="replicates (seeds spawned from seed)")


class Scenario(Section):
    """A whole scenario: frozen; change it with :meth:`with_overrides`."""

    name: str = Field("scenario", description="short name used for result folders")
    policy: Policy = Policy()
    world: WorldSpec = WorldSpec()
    networks: dict[str, NetworkSpec] = Field(default_factory=dict)
    pioneers: Pioneers = Pioneers()
    mechanisms: Mechanisms = Mechanisms()
    governments: Governments = Governments()
    events: tuple[Event, ...] = ()
    run: Run = Run()
    source: str | None = Field(None, exclude=True, description="file it was read from")

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain data (what a manifest records)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Scenario:
        """A new scenario with dotted keys replaced, validated like a file.

        Examples
        --------
        >>> s = Scenario().with_overrides({"mechanisms.horizontal.rule": "contagion"})
        >>> s.mechanisms.horizontal.rule
        'contagion'
        """
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        for key, value in overrides.items():
            _set_dotted(data, key, value, source=self.source)
        return parse_scenario(data, source=self.source, name=self.name)

    def with_mechanisms(self, *enabled: str) -> Scenario:
        """The same scenario with only the named upscaling mechanisms switched on."""
        known = ("innovation", "horizontal", "vertical", "hierarchical", "abandonment")
        unknown = set(enabled) - set(known)
        if unknown:
            raise InputError(f"unknown mechanism(s) {sorted(unknown)}; allowed: {known}")
        return self.with_overrides(
            {f"mechanisms.{m}.enabled": m in enabled for m in known if m != "abandonment"}
        )


# ------------------------------------------------------------------- loading


def _set_dotted(data: dict, key: str, value: Any, *, source: str | None) -> None:
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise InputError(
                f"cannot set '{key}': '{'.'.join(parts[: i + 1])}' is not a section",
                source=source,
            )
        node = child
    node[parts[-1]] = value


def parse_value(text: str) -> Any:
    """Read a ``--set KEY=VALUE`` value as TOML (numbers, booleans, lists), else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _line_of(text: str | None, key: str) -> int | None:
    if not text:
        return None
    pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=|^\s*\[+.*\b{re.escape(key)}\b.*\]+")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.search(line):
            return number
    return None


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model class an annotation holds, and whether it is keyed (a dict of them)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = getattr(annotation, "__origin__", None)
    args = getattr(annotation, "__args__", ())
    if origin is dict and args:
        inner, _ = _model_of(args[-1])
        return inner, True
    return None, False


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys allowed at a location in the schema, for did-you-mean."""
    current: type[BaseModel] | None = model
    skip_next = False
    for part in loc[:-1]:
        if skip_next:
            skip_next = False
            continue
        if current is None or isinstance(part, int):
            return []
        fields = current.model_fields
        field = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if field is None:
            return []
        current, skip_next = _model_of(field.annotation)
    if current is None:
        return []
    return [f.alias or n for n, f in current.model_fields.items() if n != "source"]


def format_validation_errors(
    exc: ValidationError,
    text: str | None,
    *,
    header: str,
    allowed_at: Callable[[tuple], list[str]],
) -> str:
    """One message for all of a file's schema errors: key, line, what is allowed.

    Shared by scenario and sweep files; ``allowed_at(loc)`` lists the keys
    allowed where an unknown key stands, for the did-you-mean.
    """
    lines = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.endswith("Event")))
        key = ".".join(str(p) for p in loc) or "(top level)"
        named = [p for p in loc if isinstance(p, str)]
        line = _line_of(text, named[-1]) if named else None
        where = f"key '{key}'" + (f" (line {line})" if line else "")
        if err["type"] == "extra_forbidden":
            allowed = allowed_at(loc)
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            allowed_text = f" Allowed here: {', '.join(allowed)}" if allowed else ""
            lines.append(f"{where}: unknown key{hint}{allowed_text}")
        elif err["type"] == "missing":
            lines.append(f"{where}: required key is missing")
        else:
            given = err.get("input")
            shown = "" if isinstance(given, dict) else f" (got {given!r})"
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"{where}: {message}{shown}")
    return "\n  ".join([header, *lines])


def _format_errors(exc: ValidationError, text: str | None) -> str:
    return format_validation_errors(
        exc, text, header="invalid scenario:", allowed_at=lambda loc: _allowed_keys(Scenario, loc)
    )


SHIPPED_SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def scenario_dirs() -> list[Path]:
    """Where scenarios are looked up by name: ./scenarios, then the checkout's."""
    seen, dirs = set(), []
    for folder in (Path.cwd() / "scenarios", SHIPPED_SCENARIOS):
        if folder.is_dir() and folder.resolve() not in seen:
            seen.add(folder.resolve())
            dirs.append(folder)
    return dirs


def find_scenario(name: str | Path) -> Path:
    """A path as given, or the name of a shipped scenario (with or without .toml)."""
    path = Path(name)
    if path.is_file():
        return path
    for folder in scenario_dirs():
        for candidate in (folder / str(name), folder / f"{name}.toml"):
            if candidate.is_file():
                return candidate
    return path  # load_scenario reports it missing, naming the path


def parse_scenario(
    data: Mapping[str, Any],
    *,
    source: str | None = None,
    name: str | None = None,
    text: str | None = None,
) -> Scenario:
    """Validate plain data (as read from TOML) into a :class:`Scenario`."""
    payload = dict(data)
    payload.setdefault("name", name or "scenario")
    payload["source"] = source
    try:
        return Scenario.model_validate(payload)
    except ValidationError as exc:
        raise InputError(_format_errors(exc, text), source=source) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Raises
    ------
    InputError
        If the file is missing, is not TOML, or breaks the schema; the message
        names the file, the key (and line) and what is allowed.
    """
    path = Path(path)
    data, text = _read_toml(path, chain=())
    return parse_scenario(data, source=str(path), name=path.stem, text=text)


def read_toml_file(path: Path, kind: str = "scenario") -> tuple[dict, str]:
    """A TOML file's data and text; a missing or malformed file is an InputError naming it."""
    if not path.is_file():
        raise InputError(f"no such {kind} file", source=str(path))
    text = path.read_text(encoding="utf-8")
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", source=str(path)) from None


def _read_toml(path: Path, chain: tuple[Path, ...]) -> tuple[dict, str]:
    """Read a TOML file, merging it over the file its ``extends`` key names."""
    data, text = read_toml_file(path)
    base_name = data.pop("extends", None)
    if base_name is None:
        return data, text
    if not isinstance(base_name, str):
        raise InputError("key 'extends': must be a file name (a string)", source=str(path))
    base_path = (path.parent / base_name).resolve()
    if base_path in chain:
        raise InputError(f"key 'extends': {base_name!r} extends itself in a loop", source=str(path))
    if not base_path.is_file():
        raise InputError(f"key 'extends': no such file {base_name!r} beside it", source=str(path))
    base, _ = _read_toml(base_path, chain + (path.resolve(),))
    base.pop("name", None)
    return _deep_merge(base, data), text


def _deep_merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def explain(model: type[BaseModel] = Scenario, prefix: str = "") -> list[dict[str, Any]]:
    """Every parameter with its meaning, default and allowed range (for --explain and docs)."""
    rows = []
    for field_name, field in model.model_fields.items():
        if field_name == "source":
            continue
        key = prefix + (field.alias or field_name)
        annotation = field.annotation
        inner, keyed = _model_of(annotation)
        if inner is not None:
            rows.extend(explain(inner, key + (".<name>." if keyed else ".")))
            continue
        if field_name == "events":
            for event_model in EVENT_MODELS:
                kind = event_model.model_fields["kind"].annotation.__args__[0]
                rows.append(
                    {
                        "key": f"events[].kind = {kind!r}",
                        "default": "",
                        "allowed": "",
                        "meaning": (event_model.__doc__ or "").strip(),
                    }
                )
                rows.extend(
                    r
                    for r in explain(event_model, f"events[{kind}].")
                    if not r["key"].endswith(".kind")
                )
            continue
        bounds = []
        for meta in field.metadata:
            for attr, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
                if getattr(meta, attr, None) is not None:
                    bounds.append(f"{symbol} {getattr(meta, attr)}")
        choices = getattr(annotation, "__args__", None)
        allowed = ", ".join(bounds)
        if choices and all(isinstance(c, str) for c in choices):
            allowed = " | ".join(choices)
        default = (
            "(required)" if field.is_required() else field.get_default(call_default_factory=True)
        )
        rows.append(
            {
                "key": key,
                "default": default if not isinstance(default, BaseModel) else "",
                "allowed": allowed,
                "meaning": field.description or "",
            }
        )
    return rows
