"""docs/whatif.md: its numbers are what the code gives (docs/whatif_numbers.py --check)."""

from __future__ import annotations

import importlib.util

from tests.conftest import ROOT


def _script():
    spec = importlib.util.spec_from_file_location(
        "whatif_numbers", ROOT / "docs" / "whatif_numbers.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_worked_studys_numbers_are_the_codes():
    script = _script()
    doc = script.DOC.read_text(encoding="utf-8")
    assert script._doc_block(doc) == script.block()  # run afresh: tables, sentences, output
    assert script.main(["--check"]) == 0


def test_the_docs_study_files_are_the_ones_shown_and_the_chart_exists():
    script = _script()
    doc = script.DOC.read_text(encoding="utf-8")
    for path in (script.STUDY, script.SCENARIO):
        assert path.read_text(encoding="utf-8").rstrip() in doc
    assert script.CHART.stat().st_size > 50_000 and "](whatif/curves.png)" in doc
    assert len(script.STUDY.read_text(encoding="utf-8").splitlines()) <= 10
    assert len(script.SCENARIO.read_text(encoding="utf-8").splitlines()) <= 10
