"""The catalogue of malformed inputs: scenario files, sweep files, ``--set``, CLI arguments.

Hand-written cases plus cases generated over the schema (every bounded
field, every string kind). Each runs on a tiny world (50 cities, 3 steps), so a
case wrongly accepted costs milliseconds, not minutes.
"""

from __future__ import annotations

from diffusion_sim.scenario import Scenario, bounds, iter_fields
from tests.bad_input.harness import Case

TINY = """name = "tiny"
[world]
n_cities = 50
n_countries = 2

[networks.c40]
rule = "exclusive"
size = 5

[run]
steps = 3
"""
S = "s.toml"  # the scenario file of a case
OUT = "out"  # --out of a case: must stay empty


def scenario(id: str, text: str, *expect: str, files=None, command: str = "validate") -> Case:
    """A scenario file ``s.toml`` with ``text``; validated (or run into ./out)."""
    argv = ("validate", S) if command == "validate" else ("run", S, "--out", OUT)
    return Case("scenario file", id, argv, {S: text, **(files or {})}, (S, *expect))


def tiny_plus(id: str, extra: str, *expect: str, **kw) -> Case:
    return scenario(id, TINY + extra, *expect, **kw)


HIDDEN = {
    "nul": "\\u0000",
    "newline": "\\n",
    "rtl": "\\u202e",
    "bell": "\\u0007",
    "zwsp": "\\u200b",
}


def _names() -> list[Case]:
    cases = []
    for bad in ("../evil", "a/b", "", ".hidden", "..", "-dash", "x" * 101, "has space", "a..b"):
        cases.append(
            scenario(f"name {bad[:12]!r}", f'name = "{bad}"\n[run]\nsteps = 3\n', "key 'name'")
        )
    for kind, esc in HIDDEN.items():
        cases.append(scenario(f"name {kind}", f'name = "a{esc}b"\n', "key 'name' (line 1)"))
        shown = f"\\u{ord(esc.encode().decode('unicode_escape')):04x}"  # escaped, not raw
        cases.append(
            tiny_plus(
                f"network name {kind}",
                f'[networks."n{esc}"]\nsize = 3\n',
                f"key 'networks.n{shown}' (line 12)",
            )
        )
        cases.append(
            tiny_plus(
                f"override name {kind}",
                f'[governments.overrides."G{esc}"]\nstance = "hostile"\n',
                "governments.overrides",
            )
        )
        cases.append(
            tiny_plus(
                f"event government {kind}",
                f'[[events]]\nstep = 2\nkind = "government_adopts"\ngovernment = "N{esc}"\n',
                "key 'events[0].government' (line 15)",
            )
        )
        cases.append(
            tiny_plus(f"pioneer city {kind}", f'[pioneers]\ncities = ["C{esc}"]\n', "pioneers")
        )
    cases += [
        scenario("name number", "name = 5\n", "key 'name' (line 1)", "valid string"),
        scenario("name bool", "name = true\n", "key 'name' (line 1)"),
        tiny_plus("network name long", f"[networks.{'n' * 101}]\nsize = 3\n", "100 characters"),
        tiny_plus("policy name rtl", '[policy]\nname = "\\u202e"\n', "policy.name"),
        tiny_plus("description nul", '[policy]\ndescription = "a\\u0000"\n', "policy.description"),
        scenario("step unit long", f'[run]\nstep_unit = "{"m" * 101}"\n', "run.step_unit"),
        tiny_plus(
            "event network long",
            f'[[events]]\nstep = 2\nkind = "network_founded"\nnetwork = "{"n" * 101}"\n',
            "events[0].network",
        ),
    ]
    return cases


def _files() -> list[Case]:
    base = 'name = "t"\n[run]\nsteps = 3\n'
    return [
        scenario(
            "latin-1", "", "UTF-8", files={S: base.encode() + "# caf\u00e9\n".encode("latin-1")}
        ),
        scenario("utf-16", "", "UTF-16", files={S: base.encode("utf-16")}),
        scenario("binary", "", "binary", files={S: bytes(range(256))}),
        scenario("png", "", "binary", files={S: b"\x89PNG\r\n\x1a\n\x00\x00"}),
        scenario("folder", "", "is a folder", files={S: None}),
        scenario("empty", "", "no settings"),
        scenario("comments only", "# a comment\n\n# another\n", "no settings"),
        scenario("blank lines", "\n\n   \n", "no settings"),
        scenario("bom only", "\ufeff", "no settings"),
        Case(
            "scenario file", "missing", ("validate", "absent.toml"), {}, ("absent.toml", "no such")
        ),
        scenario("unclosed table", "[run\nsteps = 3\n", "not valid TOML"),
        scenario("no value", "[run]\nsteps =\n", "not valid TOML"),
        scenario("duplicate key", "[run]\nsteps = 3\nsteps = 4\n", "not valid TOML"),
        scenario("duplicate table", "[run]\nsteps = 3\n[run]\nseed = 1\n", "not valid TOML"),
        scenario("python", "import os\nos.system('x')\n", "not valid TOML"),
        scenario("json", '{"run": {"steps": 3}}\n', "not valid TOML"),
        scenario("yaml", "run:\n  steps: 3\n", "not valid TOML"),
        scenario("too large", "", "at most", files={S: "# x\n" * 1_300_000}),
        Case(
            "scenario file",
            "typo in shipped name",
            ("run", "embeded", "--out", OUT),
            {},
            ("embeded", "did you mean 'embedded'"),
        ),
        Case(
            "scenario file",
            "unknown shipped name",
            ("validate", "nosuchthing"),
            {},
            ("nosuchthing", "no such scenario file"),
        ),
    ]


def _extends() -> list[Case]:
    def ext(id: str, value: str, *expect: str, files=None) -> Case:
        return scenario(
            f"extends {id}",
            f"extends = {value}\n[run]\nsteps = 3\n",
            "key 'extends' (line 1)",
            *expect,
            files=files,
        )

    good_base = "[world]\nn_cities = 50\n"
    return [
        ext("/etc/passwd", '"/etc/passwd"', "absolute"),
        ext("absolute toml", '"/etc/x.toml"', "absolute"),
        ext("escape", '"../../../../../etc/passwd"', ".toml"),
        ext("txt", '"base.txt"', ".toml", files={"base.txt": good_base}),
        ext("home", '"~/x.toml"', "relative"),
        ext("number", "5", "a string"),
        ext("empty", '""', "a string"),
        ext("list", '["a.toml"]', "a string"),
        ext("missing", '"nowhere.toml"', "no such file"),
        ext("folder", '"d.toml"', "no such file", files={"d.toml": None}),
        ext("itself", '"s.toml"', "loop"),
        ext("loop", '"b.toml"', "loop", files={"b.toml": 'extends = "s.toml"\n'}),
        ext("bad base toml", '"b.toml"', files={"b.toml": "[run\n"}),
        ext("binary base", '"b.toml"', files={"b.toml": b"\x00\x01\xff"}),
        ext("latin-1 base", '"b.toml"', files={"b.toml": "# \u00e9\n".encode("latin-1")}),
        scenario(
            "extends base value hidden",
            'extends = "b.toml"\n[run]\nsteps = 3\n',
            "key 'world.n_cities' (in the file it extends, b.toml)",
            files={"b.toml": '[world]\nn_cities = "SECRET-VALUE"\n'},
        ),
    ]


_BAD_VALUES = {
    "int": [("bool", "true"), ("string", '"5"'), ("float", "1.5")],
    "float": [("bool", "false"), ("string", '"0.5"'), ("nan", "nan")],
    "bool": [("string", '"yes"'), ("int", "1")],
}


def generated_field_cases() -> list[Case]:
    """Every scalar field of the schema with wrong types and out-of-range values.

    The key is written in its own table so the message must cite line 2.
    """
    cases = []
    for key, field, _ in iter_fields(Scenario):
        if "<name>" in key or "." not in key:
            continue
        table, leaf = key.rsplit(".", 1)
        kind = {int: "int", float: "float", bool: "bool"}.get(field.annotation)
        if field.annotation == int | None:
            kind = "int"
        if kind is None:
            continue
        values = list(_BAD_VALUES[kind])
        limits = bounds(field)
        if "ge" in limits:
            values.append(("below", repr(limits["ge"] - 1)))
        if "le" in limits:
            step = 1 if kind == "int" else 0.5
            values.append(("above", repr(limits["le"] + step)))
        for name, value in values:
            text = f"[{table}]\n{leaf} = {value}\n"
            cases.append(scenario(f"{key} {name}", text, f"key '{key}' (line 2)"))
    return cases


def _values() -> list[Case]:
    t = tiny_plus
    return [
        scenario(
            "largest_population 1e20",
            "[world]\nlargest_population = 1e20\n",
            "key 'world.largest_population' (line 2)",
        ),
        scenario(
            "largest_population huge int",
            "[world]\nlargest_population = 100000000000000000000\n",
            "world.largest_population",
        ),
        scenario("n_cities string", '[world]\nn_cities = "5000"\n', "world.n_cities"),
        scenario("steps true", "[run]\nsteps = true\n", "key 'run.steps' (line 2)"),
        scenario("enabled yes", '[mechanisms.innovation]\nenabled = "yes"\n', "enabled"),
        scenario("bbox short", "[world]\nbbox = [1, 2]\n", "world.bbox"),
        scenario("bbox reversed", "[world]\nbbox = [0, 50, 10, 40]\n", "world"),
        scenario("bbox nan", "[world]\nbbox = [0, nan, 10, 40]\n", "world.bbox"),
        scenario("countries USA", '[world]\ncountries = ["USA"]\n', "world.countries"),
        scenario("continents XX", '[world]\ncontinents = ["XX"]\n', "world.continents"),
        scenario("levels string", '[governments]\nlevels = "region"\n', "governments.levels"),
        scenario(
            "mandate city",
            '[mechanisms.hierarchical]\nmandate_levels = ["city"]\n',
            "mandate_levels",
        ),
        scenario(
            "ladder reversed",
            "[world.ladder]\nleader_cutoff = 0.2\nlaggard_cutoff = 0.5\n",
            "world.ladder",
        ),
        scenario(
            "distribution cauchy",
            '[mechanisms.horizontal.thresholds]\ndistribution = "cauchy"\n',
            "distribution",
        ),
        scenario(
            "rule osmosis",
            '[mechanisms.horizontal]\nrule = "osmosis"\n',
            "'threshold' or 'contagion'",
        ),
        scenario("unknown section", "[foo]\nbar = 1\n", "key 'foo' (line 1)", "unknown key"),
        scenario(
            "typo n_city",
            "[world]\nn_city = 50\n",
            "key 'world.n_city' (line 2)",
            "did you mean 'n_cities'",
        ),
        scenario("run as int", "run = 5\n", "key 'run' (line 1)"),
        scenario("networks as int", "networks = 5\n", "networks"),
        scenario("network as int", "[networks]\nc40 = 5\n", "networks.c40"),
        scenario(
            "network size huge", "[networks.c40]\nsize = 1000000000000\n", "networks.c40.size"
        ),
        scenario(
            "stance angry", '[governments.overrides."Nation 1"]\nstance = "angry"\n', "stance"
        ),
        scenario("events string", 'events = "x"\n', "events"),
        t("founded after last step", "[networks.late]\nfounded_step = 4\n", "never exist"),
        t(
            "event after last step",
            '[[events]]\nstep = 4\nkind = "summit"\nboost = 2\n',
            "never happen",
        ),
        t(
            "event step 0",
            '[[events]]\nstep = 0\nkind = "summit"\nboost = 2\n',
            "key 'events[0].step' (line 13)",
        ),
        t(
            "event step string",
            '[[events]]\nstep = "2"\nkind = "summit"\nboost = 2\n',
            "key 'events[0].step' (line 13)",
        ),
        t(
            "event kind unknown",
            '[[events]]\nstep = 2\nkind = "earthquake"\n',
            "key 'events[0].kind' (line 14)",
            "allowed kinds: stance",
        ),
        t("event kind missing", "[[events]]\nstep = 2\n", "events[0]", "allowed kinds"),
        t(
            "event government missing",
            '[[events]]\nstep = 2\nkind = "government_adopts"\n',
            "key 'events[0].government' (line 12)",
            "missing",
        ),
        t(
            "event boost huge",
            '[[events]]\nstep = 2\nkind = "summit"\nboost = 1e9\n',
            "key 'events[0].boost' (line 15)",
        ),
        t(
            "event duration huge",
            '[[events]]\nstep = 2\nkind = "summit"\nboost = 2\nduration = 1000000000\n',
            "events[0].duration",
        ),
        t(
            "pioneers event count huge",
            '[[events]]\nstep = 2\nkind = "pioneers"\ncount = 1000000000000\n',
            "events[0].count",
        ),
        t(
            "network_opens size 0",
            '[[events]]\nstep = 2\nkind = "network_opens"\nnetwork = "c40"\nsize = 0\n',
            "events[0].size",
        ),
        t(
            "fourth event step",
            '[[events]]\nstep = 1\nkind = "summit"\nboost = 2\n' * 3
            + '[[events]]\nstep = -1\nkind = "summit"\nboost = 2\n',
            "key 'events[3].step' (line 25)",
        ),
        scenario(
            "run.steps after events",
            '[[events]]\nstep = 1\nkind = "summit"\nboost = 2\n\n[run]\nsteps = 0\n',
            "key 'run.steps' (line 7)",
        ),
        scenario(
            "inline events",
            'events = [{step = 1, kind = "bogus"}]\n',
            "events[0].kind",
            "allowed kinds",
        ),
        scenario("dotted key", "run.steps = -1\n", "key 'run.steps' (line 1)"),
        scenario("quoted key", '[run]\n"steps" = -1\n', "key 'run.steps' (line 2)"),
        t("run via run", "[pioneers]\ncount = 1000000000000\n", "pioneers.count", command="run"),
        t(
            "run event late",
            '[[events]]\nstep = 9\nkind = "summit"\nboost = 2\n',
            "never happen",
            command="run",
        ),
        scenario("run bad name", 'name = "../../x"\n', "key 'name'", command="run"),
        scenario("run binary", "", "binary", files={S: b"\x00" * 10}, command="run"),
    ]


# ------------------------------------------------------------------ sweep files

SWEEP_SCENARIO = 'name = "base"\n[world]\nn_cities = 50\nn_countries = 2\n[run]\nsteps = 3\n'
W = "w.toml"
LEVER = '[[levers]]\nkey = "mechanisms.horizontal.enabled"\nvalues = [true, false]'
STRENGTH = '[[levers]]\nkey = "mechanisms.horizontal.strength"'


def sweep_text(**keys: str) -> str:
    top = {"name": '"w"', "scenario": '"base.toml"', "replicates": "1"}
    top.update({k: v for k, v in keys.items() if k in top or k not in ("design", "levers")})
    lines = [f"{k} = {v}" for k, v in top.items() if v is not None]
    lines.append(keys.get("design", '[design]\nmethod = "grid"\nlevels = 2'))
    lines.append(
        keys.get(
            "levers", '[[levers]]\nkey = "mechanisms.horizontal.enabled"\nvalues = [true, false]'
        )
    )
    return "\n".join(lines) + "\n"


def sweep(id: str, text: str | bytes | None, *expect: str, extra=(), files=None) -> Case:
    return Case(
        "sweep file",
        id,
        ("sweep", W, "--out", OUT, "--workers", "1", *extra),
        {"base.toml": SWEEP_SCENARIO, W: text, **(files or {})},
        (W, *expect),
    )


def _sweeps() -> list[Case]:
    s = sweep
    cases = [
        s("name ../x", sweep_text(name='"../x"'), "key 'name' (line 1)", "folder name"),
        s("name a/b", sweep_text(name='"a/b"'), "key 'name' (line 1)"),
        s("name empty", sweep_text(name='""'), "key 'name' (line 1)"),
        s("name nul", sweep_text(name='"a\\u0000"'), "key 'name' (line 1)"),
        s("name rtl", sweep_text(name='"\\u202eabc"'), "key 'name' (line 1)"),
        s("name long", sweep_text(name=f'"{"w" * 101}"'), "key 'name' (line 1)"),
        s("name number", sweep_text(name="5"), "key 'name' (line 1)"),
        s(
            "scenario /etc/passwd",
            sweep_text(scenario='"/etc/passwd"'),
            "key 'scenario' (line 2)",
            ".toml",
        ),
        s(
            "scenario escape",
            sweep_text(scenario='"../../../../etc/passwd"'),
            "key 'scenario' (line 2)",
        ),
        s(
            "scenario txt",
            sweep_text(scenario='"base.txt"'),
            "key 'scenario' (line 2)",
            files={"base.txt": SWEEP_SCENARIO},
        ),
        s(
            "scenario missing",
            sweep_text(scenario='"nowhere.toml"'),
            "key 'scenario' (line 2)",
            "no such file",
        ),
        s("scenario number", sweep_text(scenario="5"), "key 'scenario' (line 2)"),
        s(
            "scenario folder",
            sweep_text(scenario='"d.toml"'),
            "key 'scenario' (line 2)",
            files={"d.toml": None},
        ),
        s(
            "scenario name typo",
            sweep_text(scenario='"embeded"'),
            "key 'scenario' (line 2)",
            "did you mean",
        ),
        s(
            "scenario invalid",
            sweep_text(),
            "key 'scenario' (line 2)",
            files={"base.toml": "[run]\nsteps = 0\n"},
        ),
        s("replicates true", sweep_text(replicates="true"), "key 'replicates' (line 3)"),
        s("replicates 0", sweep_text(replicates="0"), "key 'replicates' (line 3)"),
        s("replicates huge", sweep_text(replicates="1000000000"), "key 'replicates' (line 3)"),
        s("seed -1", sweep_text(seed="-1"), "key 'seed' (line 4)"),
        s("common_seeds yes", sweep_text(common_seeds='"yes"'), "key 'common_seeds' (line 4)"),
        s("engine gpu", sweep_text(engine='"gpu"'), "key 'engine' (line 4)"),
        s("runs_per_task 0", sweep_text(runs_per_task="0"), "runs_per_task"),
        s("runs_per_task many", sweep_text(runs_per_task='"many"'), "runs_per_task"),
        s(
            "unknown key",
            sweep_text(replicate="2"),
            "key 'replicate' (line 4)",
            "did you mean 'replicates'",
        ),
        s("outcome typo", sweep_text(outcomes='["share_city"]'), "outcomes", "did you mean"),
        s(
            "method bogus",
            sweep_text(design='[design]\nmethod = "bogus"'),
            "key 'design.method' (line 5)",
        ),
        s(
            "grid with samples",
            sweep_text(design='[design]\nmethod = "grid"\nsamples = 4'),
            "design",
        ),
        s(
            "sobol not power of 2",
            sweep_text(design='[design]\nmethod = "sobol"\nsamples = 100'),
            "power of 2",
        ),
        s("levels 1", sweep_text(design="[design]\nlevels = 1"), "key 'design.levels' (line 5)"),
        s("levels huge", sweep_text(design="[design]\nlevels = 100000000"), "design.levels"),
        s(
            "samples huge",
            sweep_text(design='[design]\nmethod = "lhs"\nsamples = 1000000000'),
            "design.samples",
        ),
        s(
            "grid too big",
            sweep_text(
                design="[design]\nlevels = 10000",
                levers="\n".join(
                    f'[[levers]]\nkey = "mechanisms.{m}.rate"\nrange = [0.0, 0.01]'
                    for m in ("innovation", "abandonment")
                )
                + '\n[[uncertainties]]\nkey = "mechanisms.horizontal.strength"\nrange = [0.0, 1.0]',
            ),
            "at most 10,000,000",
        ),
        s(
            "over confirm limit",
            sweep_text(design='[design]\nmethod = "lhs"\nsamples = 30000'),
            "--yes",
        ),
        s(
            "range reversed",
            sweep_text(
                levers='[[levers]]\nkey = "mechanisms.horizontal.strength"\nrange = [0.9, 0.1]'
            ),
            "low < high",
        ),
        s(
            "range nan",
            sweep_text(
                levers='[[levers]]\nkey = "mechanisms.horizontal.strength"\nrange = [nan, 0.1]'
            ),
            "levers",
        ),
        s(
            "range and values",
            sweep_text(levers=STRENGTH + "\nrange = [0, 1]\nvalues = [0.1]"),
            "exactly one",
        ),
        s(
            "values empty",
            sweep_text(levers='[[levers]]\nkey = "mechanisms.horizontal.enabled"\nvalues = []'),
            "levers",
        ),
        s(
            "values mixed",
            sweep_text(
                levers='[[levers]]\nkey = "mechanisms.horizontal.enabled"\nvalues = [true, 1]'
            ),
            "one type",
        ),
        s(
            "key typo",
            sweep_text(levers='[[levers]]\nkey = "mechanisms.horizontal.strenght"\nrange = [0, 1]'),
            "did you mean 'strength'",
        ),
        s(
            "key out of range",
            sweep_text(levers='[[levers]]\nkey = "mechanisms.horizontal.strength"\nrange = [0, 5]'),
            "less than or equal to 1",
        ),
        s(
            "key bool as range",
            sweep_text(levers='[[levers]]\nkey = "mechanisms.horizontal.enabled"\nrange = [0, 1]'),
            "use 'values'",
        ),
        s(
            "key network typo",
            sweep_text(levers='[[levers]]\nkey = "networks.c4O.size"\nrange = [1, 5]'),
            "no network 'c4O'",
        ),
        s(
            "key empty part",
            sweep_text(levers='[[levers]]\nkey = "mechanisms..rate"\nrange = [0, 1]'),
            "key",
        ),
        s("no parameters", sweep_text(levers=""), "at least one"),
        s(
            "constants typo",
            sweep_text(levers='[constants]\n"run.stepz" = 3\n' + LEVER),
            "constants",
            "did you mean",
        ),
        s(
            "constants bad",
            sweep_text(levers='[constants]\n"run.steps" = true\n' + LEVER),
            "constants",
        ),
        s(
            "question bad",
            sweep_text(levers=LEVER + '\n[[questions]]\nname = "q"\ncondition = "__import__(1)"'),
            "cannot read condition",
        ),
        s("empty file", "", "no settings"),
        s("comments only", "# nothing\n", "no settings"),
        s("latin-1", sweep_text().encode() + "# \u00e9\n".encode("latin-1"), "UTF-8"),
        s("utf-16", sweep_text().encode("utf-16"), "UTF-16"),
        s("binary", b"\x00\x01\x02", "binary"),
        s("folder", None, "is a folder"),
        s("invalid toml", "name = \n", "not valid TOML"),
    ]
    return cases


# ------------------------------------------------------------------ --set


def set_case(id: str, item: str, *expect: str, command: str = "run") -> Case:
    argv = (command, S, "--set", item) + (("--out", OUT) if command == "run" else ())
    return Case("--set", id, argv, {S: TINY}, ("--set", *expect))


def _sets() -> list[Case]:
    c = set_case
    cases = [
        c("unknown key", "mechanisms.x=1", "--set mechanisms.x=1", "unknown key"),
        c("typo", "mechanisms.horizontal.strenght=0.3", "did you mean 'strength'"),
        c("steps true", "run.steps=true", "--set run.steps=true"),
        c("steps 0", "run.steps=0", "--set run.steps=0"),
        c("steps huge", "run.steps=1000000000", "--set run.steps"),
        c("steps float", "run.steps=1.5", "--set run.steps"),
        c("name ../x", "name=../x", "--set name=../x", "folder name"),
        c("name a/b", "name=a/b", "--set name=a/b"),
        c("name rtl", 'name="\\u202e"', "--set name="),
        c("network typo", "networks.c4O.size=10", "no network 'c4O'", "did you mean 'c40'"),
        c("network unknown", "networks.zzz.monitors=true", "no network 'zzz'"),
        c("no value", "novalue", "KEY=VALUE"),
        c("no key", "=3", "KEY=VALUE"),
        c("empty part", "a..b=1", "dotted key"),
        c("leading dot", ".a=1", "dotted key"),
        c("n_cities string", 'world.n_cities="50"', "--set world.n_cities"),
        c("n_cities float", "world.n_cities=50.5", "--set world.n_cities"),
        c(
            "enabled yes",
            "mechanisms.innovation.enabled=yes",
            "--set mechanisms.innovation.enabled",
        ),
        c("enabled 1", "mechanisms.innovation.enabled=1", "--set mechanisms.innovation.enabled"),
        c("section to int", "run=5", "--set run=5"),
        c("leaf to section", "run.steps.x=1", "not a section"),
        c("events string", "events=5", "--set events=5"),
        c("event late", 'events=[{step=99,kind="summit",boost=2}]', "never happen"),
        c("founded late", "networks.c40.founded_step=99", "never exist"),
        c("population 1e20", "world.largest_population=1e20", "--set world.largest_population"),
        c("pioneers huge", "pioneers.count=1000000000000", "--set pioneers.count"),
        c("countries USA", 'world.countries=["USA"]', "--set world.countries"),
        c("levels string", "governments.levels=region", "--set governments.levels"),
        c("rule osmosis", "mechanisms.horizontal.rule=osmosis", "'threshold' or 'contagion'"),
        c("bbox short", "world.bbox=[1,2]", "--set world.bbox"),
        c(
            "stance angry",
            "governments.overrides.X.stance=angry",
            "--set governments.overrides.X.stance",
        ),
        c("rate nan", "mechanisms.innovation.rate=nan", "--set mechanisms.innovation.rate"),
        c("rate inf", "mechanisms.innovation.rate=inf", "--set mechanisms.innovation.rate"),
        c("voice huge", "mechanisms.vertical.voice_saturation=1000000000000", "voice_saturation"),
        c("validate typo", "mechanisms.x=1", "--set mechanisms.x=1", command="validate"),
        c("validate name", "name=..", "--set name=..", command="validate"),
    ]
    cases.append(
        Case(
            "--set",
            "twice",
            ("run", S, "--set", "run.steps=2", "--set", "run.steps=3", "--out", OUT),
            {S: TINY},
            ("--set run.steps=3", "twice"),
        )
    )
    for cmd in ("compare", "export"):
        cases.append(
            Case(
                "--set",
                f"{cmd} typo",
                (cmd, S, "--set", "mechanisms.x=1"),
                {S: TINY},
                ("--set mechanisms.x=1",),
            )
        )
    return cases


# ------------------------------------------------------------------ CLI arguments


def arg_case(id: str, argv: tuple[str, ...], *expect: str, files=None) -> Case:
    return Case("CLI arguments", id, argv, {S: TINY, "afile": "x", **(files or {})}, expect)


def _args() -> list[Case]:
    a = arg_case
    cases = []
    for flag, bad in [
        ("--steps", "0"),
        ("--steps", "-1"),
        ("--steps", "abc"),
        ("--steps", "1e3"),
        ("--steps", "100001"),
        ("--steps", ""),
        ("--replicates", "0"),
        ("--replicates", "-2"),
        ("--replicates", "x"),
        ("--seed", "-1"),
        ("--seed", "abc"),
        ("--seed", "1.5"),
        ("--seed", str(2**64)),
        ("--engine", "gpu"),
        ("--workers", "0"),
        ("--workers", "5000"),
        ("--out", "afile"),
        ("--out", "afile/sub"),
        ("--out", ""),
    ]:
        cases.append(a(f"run {flag} {bad!r}", ("run", S, flag, bad), f"argument {flag}"))
    for flag, bad in [
        ("--replicates", "0"),
        ("--seed", "-1"),
        ("--steps", "0"),
        ("--out", "afile"),
        ("--engine", "x"),
    ]:
        cases.append(a(f"compare {flag} {bad!r}", ("compare", S, flag, bad), f"argument {flag}"))
    for flag, bad in [
        ("--workers", "0"),
        ("--workers", "x"),
        ("--scheduler", "localhost"),
        ("--scheduler", "http://x:1"),
        ("--scheduler", "tcp://host"),
        ("--scheduler", "tcp://host:70000"),
        ("--scheduler", "tcp://host:0"),
        ("--scheduler", "tcp://a b:1"),
        ("--out", "afile"),
    ]:
        cases.append(a(f"sweep {flag} {bad!r}", ("sweep", "w.toml", flag, bad), f"argument {flag}"))
    system = ("/", "/proc/x", "/dev/null", "/sys/x", "/dev")  # the root, pseudo-filesystems
    for command in (("run", S), ("compare", S), ("sweep", "w.toml")):
        for bad in system:
            cases.append(
                a(f"{command[0]} --out {bad}", (*command, "--out", bad), "argument --out", bad)
            )
    for bad in ("/dev/null", "/proc/x.graphml", "/sys/x.gexf", "/"):
        cases.append(a(f"export --out {bad}", ("export", S, "--out", bad), "argument --out"))
    for bad in ("0", "1.5", "abc", "nan", "-1"):
        cases.append(
            a(
                f"analyze --threshold {bad}",
                ("analyze", "res", "--threshold", bad),
                "argument --threshold",
            )
        )
    cases += [
        a("analyze missing folder", ("analyze", "nowhere"), "nowhere"),
        a("analyze a file", ("analyze", "afile"), "afile"),
        a("export format pdf", ("export", S, "--format", "pdf"), "argument --format"),
        a("export --out under a file", ("export", S, "--out", "afile/x.graphml"), "argument --out"),
        a("export --seed -1", ("export", S, "--seed", "-1"), "argument --seed"),
        a(
            "calibrate --replicates 0",
            ("calibrate", S, "--data", "d.csv", "--fit", "k", "--replicates", "0"),
            "argument --replicates",
        ),
        a(
            "calibrate --max-evaluations 0",
            ("calibrate", S, "--data", "d.csv", "--fit", "k", "--max-evaluations", "0"),
            "argument --max-evaluations",
        ),
        a(
            "calibrate --denominator 0",
            ("calibrate", S, "--data", "d.csv", "--fit", "k", "--denominator", "0"),
            "argument --denominator",
        ),
        a(
            "calibrate --write-scenario under a file",
            ("calibrate", S, "--data", "d.csv", "--fit", "k", "--write-scenario", "afile/x.toml"),
            "argument --write-scenario",
        ),
        a("dashboard --port 0", ("dashboard", "--port", "0"), "argument --port"),
        a("dashboard --port 70000", ("dashboard", "--port", "70000"), "argument --port"),
        a("dashboard --port abc", ("dashboard", "--port", "abc"), "argument --port"),
        a("dashboard --port -1", ("dashboard", "--port", "-1"), "argument --port"),
        a("dashboard --host space", ("dashboard", "--host", "a b"), "argument --host"),
        a("dashboard --host empty", ("dashboard", "--host", ""), "argument --host"),
        a("unknown command", ("frobnicate",), "invalid choice"),
        a("no command", (), "required"),
        a("unknown flag", ("run", S, "--stepz", "3"), "unrecognized arguments"),
        a("validate nothing", ("validate",), "validate needs a SCENARIO"),
        a("run a folder", ("run", "d", "--out", OUT), "is a folder", files={"d": None}),
    ]
    return cases


# ------------------------------------------------------------------ calibrate data


def data_case(
    id: str, content: str | bytes | None, *expect: str, extra=(), blame: str = "d.csv"
) -> Case:
    """``calibrate`` of the tiny scenario on ``d.csv`` holding ``content`` (None: a folder).

    ``blame`` is what the message must name: the data file, or the flag at fault.
    """
    argv = ("calibrate", S, "--data", "d.csv", "--fit", "mechanisms.innovation.rate")
    argv += ("--method", "point", "--max-evaluations", "1", "--out", OUT, *extra)
    return Case("calibrate data", id, argv, {S: TINY, "d.csv": content}, (blame, *expect))


def _calibrate_data() -> list[Case]:
    d = data_case
    good = "city,date\nA,2010-01-05\nB,2011-03-01\n"
    return [
        d("empty", "", "is empty"),
        d("blank lines", "  \n\n", "is empty"),
        d("header only", "city,date\n", "no rows"),
        d("no header", "A,2010-01-05\n", "expected the columns 'city' and 'date'"),
        d("wrong columns", "town,when\nA,2010-01-05\n", "expected the columns 'city' and 'date'"),
        d("latin-1", "city,date\nZ\xfcrich,2010-01-05\n".encode("latin-1"), "not UTF-8"),
        d("utf-16", good.encode("utf-16"), "not UTF-8"),
        d("binary", bytes(range(256)) * 4, "not UTF-8"),
        d("a folder", None, "is a directory"),
        d("unparseable date", "city,date\nA,2010-01-05\nB,someday\n", "line(s) 3"),
        d("missing date", "city,date\nA,2010-01-05\nB,\n", "line(s) 3"),
        d("month 13", "city,date\nA,2010-13-05\n", "line(s) 2"),
        d("day 32", "city,date\nA,2010-01-32\n", "line(s) 2"),
        d("future date", "city,date\nA,2010-01-05\nB,9999-12-31\n", "after today", "line(s) 3"),
        d("far future", "city,date\nA,2010-01-05\nB,2200-01-01\n", "after today"),
        d("ragged quote", 'city,date\nA,2010-01-05,x,y\n"B,2010\n', "not a readable CSV"),
        d("bad coordinated", "city,date,coordinated\nA,2010-01-05,maybe\n", "coordinated"),
        d(
            "span over the step limit",
            "city,date\nA,1700-01-01\nB,2000-12-31\n",
            "at most 100,000",
            extra=("--set", "run.step_unit=day"),
        ),
        d("start after", good, "earlier", extra=("--start", "2020-01"), blame="--start"),
        d("start not a date", good, "expected e.g.", extra=("--start", "soon"), blame="--start"),
        d("only a city column", "city\nA\n", "expected the columns 'city' and 'date'"),
        d("only a date column", "date\n2010-01-05\n", "expected the columns 'city' and 'date'"),
        d("semicolons", "city;date\nA;2010-01-05\n", "expected the columns 'city' and 'date'"),
        d("date words", "city,date\nA,next spring\n", "line(s) 2"),
        d("february 30", "city,date\nA,2010-02-30\n", "line(s) 2"),
        d("many bad dates", "city,date\n" + "A,x\n" * 8, "8 missing or unparseable", "more"),
        d("a year 2200", "city,date\nA,2010-01-05\nB,2200-06-01\n", "after today", "line(s) 3"),
        d("NUL in a name", "city,date\nA\x00B,x\n", "line(s) 2"),
        d("mixed bad and good", "city,date\nA,2010-01-05\nB,?\nC,2011-01-01\n", "line(s) 3"),
        d(
            "step unit of no calendar",
            good,
            "calibration needs one of",
            extra=("--set", "run.step_unit=tick"),
            blame="run.step_unit",
        ),
    ]


def all_cases() -> list[Case]:
    """Every case, ids unique within a category."""
    cases = (
        _names()
        + _files()
        + _extends()
        + generated_field_cases()
        + _values()
        + _sweeps()
        + _sets()
        + _args()
        + _calibrate_data()
    )
    seen = set()
    for case in cases:
        key = (case.category, case.id)
        assert key not in seen, key
        seen.add(key)
    return cases
