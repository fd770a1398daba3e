"""The on-disk cache of the contract's derived forms: named by what they derive from, bounded, and never needed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mock_server.contract import cache


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "flux-mock"


def test_an_entry_reads_back_what_was_written(home: Path) -> None:
    assert cache.read("document-x") is None
    cache.write("document-x", b"\x00parsed")
    assert cache.read("document-x") == b"\x00parsed"
    assert [p.name for p in home.iterdir()] == ["document-x.bin"]  # no temporary file left behind


def test_a_name_changes_with_any_part_and_with_where_parts_split() -> None:
    name = cache.entry_name("document", b"ab", "c")
    assert name.startswith("document-")
    assert name == cache.entry_name("document", b"ab", "c")
    assert name != cache.entry_name("document", b"a", "bc")
    assert name != cache.entry_name("document", b"ab", "d")
    assert name != cache.entry_name("validator", b"ab", "c")


def test_without_a_usable_directory_nothing_is_cached_and_nothing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    cache.write("document-x", b"data")
    assert cache.read("document-x") is None


def test_the_directory_keeps_only_the_newest_entries(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    for age, name in enumerate(("a", "b", "c")):
        cache.write(name, name.encode())
        os.utime(home / f"{name}.bin", (1_000 + age, 1_000 + age))
    cache.write("d", b"d")
    assert sorted(p.stem for p in home.glob("*.bin")) == ["b", "c", "d"]


def test_without_a_home_there_is_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", no_home)
    assert cache.cache_dir() is None
    cache.write("document-x", b"data")
    assert cache.read("document-x") is None


def test_the_default_directory_is_under_the_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / ".cache" / "flux-mock"


def test_a_directory_others_can_write_to_is_not_read(home: Path) -> None:
    # A validator's entry is code that is run: one someone else could have planted is never loaded.
    cache.write("validator-x", b"code")
    assert (home.stat().st_mode & 0o777) == 0o700
    home.chmod(0o777)
    assert cache.read("validator-x") is None
    home.chmod(0o700)
    assert cache.read("validator-x") == b"code"
