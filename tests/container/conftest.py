"""The container image: built once per session from the Containerfile, on a Debian base made with mmdebstrap.

Needs root, ``buildah`` and ``mmdebstrap`` (``apt-get install -y buildah mmdebstrap``); fails, never skips,
without them. How long each step took is printed at the end of the run and kept in reports/container-image.json.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from buildah_support import REPO, build_image, ensure_base, remove_image, require_tools

TIMINGS = pytest.StashKey[dict[str, float | str]]()


def _timings(config: pytest.Config) -> dict[str, float | str]:
    return config.stash.setdefault(TIMINGS, {})


@pytest.fixture(scope="session")
def timings(request: pytest.FixtureRequest) -> dict[str, float | str]:
    """Seconds per step (base, build, each start), filled in by the fixtures and tests that take them."""
    return _timings(request.config)


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory, timings: dict[str, float | str]) -> Iterator[str]:
    """The image built from this checkout's Containerfile; removed at the end (the cached base stays)."""
    require_tools()
    work = tmp_path_factory.mktemp("container")
    began = time.monotonic()
    base, made = ensure_base(work)
    timings["base"] = base
    timings["base_s" if made else "base_cached_s"] = round(time.monotonic() - began, 1)
    began = time.monotonic()
    tag = build_image(base, work / "build.log")
    timings["build_s"] = round(time.monotonic() - began, 1)
    try:
        yield tag
    finally:
        remove_image(tag)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    found = config.stash.get(TIMINGS, None)
    if not found:
        return
    reports = REPO / "reports"
    reports.mkdir(exist_ok=True)
    path = Path(reports / "container-image.json")
    path.write_text(json.dumps(found, indent=2) + "\n")
    steps = ", ".join(f"{key} {value}" for key, value in found.items())
    terminalreporter.write_line(f"container image timings ({path.relative_to(REPO)}): {steps}")
