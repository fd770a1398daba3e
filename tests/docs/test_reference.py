"""The reference pages of docs/ are what docs/gen_reference.py makes from the code now: never edited by hand."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from docs_scripts import load

from mock_server import Settings
from mock_server.config.options import declared, flag_name
from mock_server.domain.scenarios.registry import REGISTRY

gen_reference = load("gen_reference")


def test_the_committed_reference_pages_are_the_generated_ones() -> None:
    for path, text in gen_reference.generate().items():
        assert path.exists(), f"{path} is missing: run python docs/gen_reference.py"
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run python docs/gen_reference.py"


def test_the_pages_name_every_setting_flag_scenario_and_command() -> None:
    pages = {path.name: text for path, text in gen_reference.generate().items()}
    for spec in declared(Settings):
        assert f"| `{spec.name}` | `{flag_name(spec)}` |" in pages["settings.md"], spec.name
    for name in REGISTRY:
        assert f"| `{name}" in pages["scenarios.md"], name
    for command in ("serve", "check", "verify", "verify-receiver", "proxy", "drift"):
        assert f"## flux-mock {command}\n" in pages["cli.md"], command
    assert "`--job-seconds SECONDS|PRESET`".replace("|", "\\|") in pages["cli.md"]
    assert "## `POST /__mock/clock/advance`" in pages["admin-api.md"]


def test_a_stale_page_is_reported(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(gen_reference, "OUT", tmp_path)
    assert gen_reference.main([]) == 0
    assert gen_reference.main(["--check"]) == 0
    (tmp_path / "settings.md").write_text("edited by hand\n", encoding="utf-8")
    assert gen_reference.main(["--check"]) == 1


def test_settings_declared_without_a_flag_are_marked_code_only() -> None:
    text = gen_reference.settings_page()
    for spec in dataclasses.fields(Settings):
        option = spec.metadata.get("option")
        if option is not None and not option.cli:
            assert f"| `{spec.name}` | (code only) |" in text
