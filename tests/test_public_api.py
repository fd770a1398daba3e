"""The deliberate public surface, and that ARCHITECTURE.md's layers cover every module.

The layers themselves are import-linter contracts in pyproject.toml, checked by `lint-imports` in .ci/run.
"""

from __future__ import annotations

import ast
import importlib
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

import contracts
import mock_server

ROOT = Path(__file__).resolve().parents[1]


def test_mock_server_exports_exactly_its_lazy_table() -> None:
    # mock_server resolves names on first use (PEP 562, so `flux-mock --help` imports no web app); its table of
    # exports (plus the eager __version__) is the expectation, and each name must be defined where it says.
    table: dict[str, tuple[str, str]] = vars(mock_server)["_EXPORTS"]
    assert sorted(mock_server.__all__) == sorted([*table, "__version__"])
    for name, (module, attribute) in table.items():
        value = getattr(mock_server, name)
        assert value is getattr(importlib.import_module(f"mock_server.{module}"), attribute), name
    assert set(mock_server.__all__) <= set(dir(mock_server))


def test_contracts_exports_exactly_its_lazy_table() -> None:
    # contracts resolves names on first use; its table of exports is the expectation, and each name must be
    # defined where the table says (so a re-export cannot drift from its home).
    table: dict[str, str] = vars(contracts)["_EXPORTS"]
    assert sorted(contracts.__all__) == sorted(table)
    for name, module in table.items():
        value = getattr(contracts, name)
        home = getattr(value, "__module__", None)
        if home is not None and not isinstance(value, (dict, tuple)):
            assert home == f"contracts.{module}", f"{name} lives in {home}, the table says contracts.{module}"


def test_wiring_stays_internal() -> None:
    # The 17-field services container and the strategies' per-operation aliases are not the public surface.
    assert "Services" not in mock_server.__all__
    assert not {n for n in contracts.__all__ if n.startswith(("imagine_", "upscale_", "invalid_imagine"))}
    assert callable(contracts.imagine_requests)  # still importable, for existing users


def _importlinter() -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "importlinter"
    ]
    return config


def _modules(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        parts = path.relative_to(ROOT / package).with_suffix("").parts
        if parts[-1] != "__init__":
            found.add(".".join(parts))
    return found


@pytest.mark.parametrize("package", ["mock_server", "contracts"])
def test_every_module_has_exactly_one_layer(package: str) -> None:
    # A new module must be placed in ARCHITECTURE.md's picture (and so in import-linter's layers); a layer
    # entry may be a subpackage (e.g. middleware), which places every module in it.
    [layers] = [c for c in _importlinter()["contracts"] if c["type"] == "layers" and c["containers"] == [package]]
    placed = [m.strip() for layer in layers["layers"] for m in re.split(r"[:|]", layer)]
    assert len(placed) == len(set(placed))
    for module in _modules(package):
        owners = [p for p in placed if module == p or module.startswith(p + ".")]
        assert len(owners) == 1, f"{package}.{module} is in layers {owners}; place it in exactly one"


def test_every_layered_module_is_in_architecture_md() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for contract in _importlinter()["contracts"]:
        if contract["type"] != "layers":
            continue
        for layer in contract["layers"]:
            for module in re.split(r"[:|]", layer):
                name = module.strip().replace(".", "/")
                assert f"`{name}" in text, f"{name} is layered in pyproject.toml but not named in ARCHITECTURE.md"


def test_contracts_use_only_the_public_mock_api() -> None:
    # `from mock_server import X` is fine when X is exported; `mock_server.<module>` is internal.
    for path in (ROOT / "contracts").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mock_server"):
                assert node.module == "mock_server", f"{path}: imports internal {node.module}"
                for alias in node.names:
                    assert alias.name in mock_server.__all__, f"{path}: {alias.name} is not public"


@pytest.mark.parametrize("package", ["mock_server", "contracts"])
def test_no_import_cycles_even_inside_functions(package: str) -> None:
    # import-linter's layers forbid upward imports between folders; this also forbids cycles inside a folder,
    # counting imports made inside functions (a lazy import hides a cycle, it does not remove it).
    import grimp

    graph = grimp.build_graph(package, exclude_type_checking_imports=True)
    cycles = [
        (a, b)
        for a in graph.modules
        for b in graph.find_modules_directly_imported_by(a)
        if b.startswith(package) and b != a and graph.chain_exists(importer=b, imported=a)
    ]
    assert not cycles, f"import cycles in {package}: {sorted(cycles)[:5]}"
