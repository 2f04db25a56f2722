"""Scenario files: TOML parsed into a frozen, validated object, never executed.

Every parameter carries its meaning, unit, default and allowed range in its
``Field``; ``diffusion-sim validate --explain`` and docs/parameters.md print them
from here, so the schema is the single source of truth.

Modules: :mod:`.types` (strict base, name rules), :mod:`.sections` (world,
networks, mechanisms), :mod:`.schema` (governments, events, run, ``Scenario``),
:mod:`.keys` (dotted keys over the schema), :mod:`.messages` (errors with key
and line), :mod:`.explain` (the parameter reference), :mod:`.loading` (files,
``extends``, shipped scenarios).
"""

from __future__ import annotations

from diffusion_sim.scenario.event_models import (
    EVENT_MODELS,
    GOVERNMENT_EVENTS,
    SETTABLE,
    GovernmentAdoptsEvent,
    GovernmentWithdrawsEvent,
    NetworkFoundedEvent,
    NetworkOpensEvent,
    PioneersEvent,
    SetEvent,
    StanceEvent,
    SummitEvent,
)
from diffusion_sim.scenario.explain import explain, parameters_markdown
from diffusion_sim.scenario.further import Mechanisms
from diffusion_sim.scenario.keys import (
    allowed_keys,
    bounds,
    field_at,
    iter_fields,
    model_of,
    set_dotted,
)
from diffusion_sim.scenario.loading import (
    MAX_FILE_BYTES,
    SHIPPED_SCENARIOS,
    deep_merge,
    find_scenario,
    load_scenario,
    parse_value,
    read_text_file,
    read_toml_file,
    scenario_dirs,
    scenario_names,
    toml_reference,
)
from diffusion_sim.scenario.messages import (
    format_validation_errors,
    key_lines,
    key_text,
    line_of,
)
from diffusion_sim.scenario.schema import (
    Event,
    GovernmentOverride,
    Governments,
    Policy,
    Run,
    Scenario,
    parse_scenario,
)
from diffusion_sim.scenario.sections import (
    MAX_CITIES,
    MAX_STEPS,
    Abandonment,
    Hierarchical,
    Horizontal,
    Innovation,
    Ladder,
    NetworkSpec,
    Pioneers,
    Thresholds,
    Vertical,
    WorldSpec,
)
from diffusion_sim.scenario.types import (
    FOLDER_NAME_RULE,
    LEVELS,
    FolderName,
    Label,
    Section,
    Stance,
    Text,
    check_folder_name,
    folder_name_from,
)

# Deprecated private alias, kept while diffusion_sim/studies/calibration/keys.py (being split from
# calibration.py by another change) still imports it: import ``model_of`` instead.
_model_of = model_of

__all__ = [
    "EVENT_MODELS",
    "FOLDER_NAME_RULE",
    "GOVERNMENT_EVENTS",
    "LEVELS",
    "MAX_CITIES",
    "MAX_FILE_BYTES",
    "MAX_STEPS",
    "SETTABLE",
    "SHIPPED_SCENARIOS",
    "Abandonment",
    "Event",
    "FolderName",
    "GovernmentAdoptsEvent",
    "GovernmentOverride",
    "GovernmentWithdrawsEvent",
    "Governments",
    "Hierarchical",
    "Horizontal",
    "Innovation",
    "Label",
    "Ladder",
    "Mechanisms",
    "NetworkFoundedEvent",
    "NetworkOpensEvent",
    "NetworkSpec",
    "Pioneers",
    "PioneersEvent",
    "Policy",
    "Run",
    "Scenario",
    "Section",
    "SetEvent",
    "Stance",
    "StanceEvent",
    "SummitEvent",
    "Text",
    "Thresholds",
    "Vertical",
    "WorldSpec",
    "allowed_keys",
    "bounds",
    "check_folder_name",
    "deep_merge",
    "explain",
    "field_at",
    "find_scenario",
    "folder_name_from",
    "format_validation_errors",
    "iter_fields",
    "key_lines",
    "key_text",
    "line_of",
    "load_scenario",
    "model_of",
    "parameters_markdown",
    "parse_scenario",
    "parse_value",
    "read_text_file",
    "read_toml_file",
    "scenario_dirs",
    "scenario_names",
    "set_dotted",
    "toml_reference",
]
