"""A link that reopens the dashboard with the same settings: the settings in the URL's query.

``?scenario=classroom&seed=7&engine=agents&on=horizontal,hierarchical&set=run.steps=30``
names a catalog key (never a path), the run's seed and engine, which of Kern's
mechanisms are on, and each changed parameter. Reading a link checks every
part as the page's own inputs do (catalog keys, parse_seed, the parameter's
spec and range, the scenario's validation), so a link can set nothing the
page itself could not; a bad part is refused with a message naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from diffusion_sim.app.params import apply_overrides, parameter_specs, parse_input, parse_seed
from diffusion_sim.app.session import MECHANISMS, with_switches
from diffusion_sim.errors import InputError
from diffusion_sim.scenario import Scenario

ENGINES = ("vectorized", "agents")
PARTS = ("scenario", "seed", "engine", "on", "set")
"""The query's parts; any other is refused (a typo must not pass silently) ..."""
SOLARAS = ("kernelid", "modelid")
"""... except those Solara's own page reads (and ``solara-...``), which are left to it."""


@dataclass(frozen=True)
class Settings:
    """What the page is set to: enough to rebuild the same run."""

    scenario: str
    seed: int
    engine: str
    switches: dict[str, bool]
    overrides: dict[str, Any] = field(default_factory=dict)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def settings_query(settings: Settings) -> str:
    """The URL query (without '?') that :func:`read_query` turns back into ``settings``.

    Examples
    --------
    >>> settings_query(Settings("embedded", 7, "agents", {"horizontal": True, "vertical": False}))
    'scenario=embedded&seed=7&engine=agents&on=horizontal'
    """
    parts = [("scenario", settings.scenario), ("seed", str(settings.seed))]
    parts += [("engine", settings.engine)]
    parts += [("on", ",".join(m for m in MECHANISMS if settings.switches.get(m)))]
    parts += [("set", f"{k}={_text(v)}") for k, v in settings.overrides.items()]
    return urlencode(parts, safe=",=")


def read_query(
    search: str | None, keys: list[str], base_scenario: Callable[[str], Scenario]
) -> Settings | None:
    """The settings a link's query names, checked; None when it names none.

    Raises
    ------
    InputError
        Naming the part of the link that is wrong and what is allowed.
    """
    pairs = parse_qsl((search or "").lstrip("?"), keep_blank_values=True)
    pairs = [(k, v) for k, v in pairs if k not in SOLARAS and not k.startswith("solara")]
    if not pairs:
        return None
    unknown = sorted({k for k, _ in pairs} - set(PARTS))
    if unknown:
        raise InputError(f"the link has {', '.join(unknown)}: allowed are {', '.join(PARTS)}")
    single = {k: v for k, v in pairs if k != "set"}
    key = single.get("scenario")
    if key not in keys:
        raise InputError(f"the link's scenario {str(key)[:60]!r} is not one of: {', '.join(keys)}")
    base = base_scenario(key)
    seed = parse_seed(single.get("seed", base.run.seed))
    engine = single.get("engine", "vectorized")
    if engine not in ENGINES:
        raise InputError(f"the link's engine {engine[:40]!r} is not one of: {', '.join(ENGINES)}")
    on = [m for m in single.get("on", "").split(",") if m]
    if set(on) - set(MECHANISMS):
        raise InputError(
            f"the link switches on {', '.join(sorted(set(on) - set(MECHANISMS)))[:60]}: "
            f"the mechanisms are {', '.join(MECHANISMS)}"
        )
    switches = {m: m in on for m in MECHANISMS}
    overrides = _read_overrides([v for k, v in pairs if k == "set"], base)
    with_switches(apply_overrides(base, overrides), switches)  # validated as on the page
    return Settings(key, seed, engine, switches, overrides)


def _read_overrides(values: list[str], base: Scenario) -> dict[str, Any]:
    specs = {s["key"]: s for group in parameter_specs(base).values() for s in group}
    overrides: dict[str, Any] = {}
    for text in values:
        key, sep, value = text.partition("=")
        spec = specs.get(key)
        if not sep or spec is None:
            raise InputError(
                f"the link sets {key[:60]!r}, which is not a parameter of this scenario "
                "(set=<key>=<value>, a key the Parameters tab shows)"
            )
        if spec["type"] == "Checkbox":
            if value not in ("true", "false"):
                raise InputError(f"the link sets {key} to {value[:20]!r}: allowed is true or false")
            overrides[key] = value == "true"
        else:
            try:
                overrides[key] = parse_input(spec, value)
            except InputError as exc:
                raise InputError(f"the link sets {key}: {exc}") from None
    return overrides


def current_settings(state: Any) -> Settings:
    """The settings of a page's state (diffusion_sim.app.state)."""
    return Settings(
        state.scenario_key.value,
        int(state.seed.value),
        state.engine.value,
        dict(state.switches.value),
        dict(state.overrides.value),
    )
