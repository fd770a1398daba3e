"""Derived forms of the contract kept on disk between runs: the parsed openapi.yaml, compiled validators.

Parsing openapi.yaml and compiling its validators costs every start about 0.3 s; reading their cached forms
costs a few milliseconds. An entry is named by a digest of everything it is derived from (the file's bytes,
the schema, the versions of the tools that made it), so a changed input is a different name and can never be
served a stale result. Nothing here is needed: a missing, unwritable or damaged cache only means the work is
done again. The directory is ``$XDG_CACHE_HOME/flux-mock`` (default ``~/.cache/flux-mock``); it holds at most
`MAX_ENTRIES` files, the oldest removed first. Entries are read with `marshal` and a validator's entry is code
that is run, so the directory must be as private as the user's own home (as ``~/.cache`` is).
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from mock_server.version import __version__

MAX_ENTRIES = 512
_SUFFIX = ".bin"


def cache_dir() -> Path | None:
    """Where entries live, or None when there is no home to put them in."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no HOME and no passwd entry
            return None
    return Path(base) / "flux-mock"


def entry_name(kind: str, *parts: bytes | str) -> str:
    """The name of an entry of `kind` derived from `parts`; flux-mock's and Python's versions are always part of it."""
    digest = hashlib.sha256()
    for part in (__version__, sys.implementation.cache_tag or "", *parts):
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)  # length-prefixed: ("ab", "c") differs from ("a", "bc")
    return f"{kind}-{digest.hexdigest()[:40]}"


def read(name: str) -> bytes | None:
    """The bytes stored under `name`, or None."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        if not _private(folder):
            return None  # someone else could have written what would be run: do the work instead
        return (folder / (name + _SUFFIX)).read_bytes()
    except OSError:
        return None


def _private(folder: Path) -> bool:
    """Whether only this user can write to `folder` (a validator's entry is code that is run)."""
    info = folder.stat()
    owner = os.getuid() if hasattr(os, "getuid") else info.st_uid
    return info.st_uid == owner and not info.st_mode & 0o022


T = TypeVar("T")


def read_value(name: str, kind: type[T]) -> T | None:
    """The `marshal`-ed value stored under `name` when it is a `kind`, else None (a damaged entry is redone)."""
    data = read(name)
    if data is None:
        return None
    try:
        value = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    return value if isinstance(value, kind) else None


def write(name: str, data: bytes) -> None:
    """Store `data` under `name` (atomically: a reader sees the old entry, the new one or none); errors are ignored."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        import tempfile  # only to write, which few starts do

        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, folder / (name + _SUFFIX))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _prune(folder)
    except OSError:
        pass  # a read-only home or a full disk: the next start does the work again


def _prune(folder: Path) -> None:
    # Entries of an older openapi.yaml are never read again; keep the directory bounded.
    entries = list(folder.glob("*" + _SUFFIX))
    if len(entries) <= MAX_ENTRIES:
        return
    by_age = sorted(entries, key=lambda path: path.stat().st_mtime)
    for path in by_age[: len(entries) - MAX_ENTRIES]:
        with contextlib.suppress(OSError):
            path.unlink()


def code(name: str, source: Callable[[], str], filename: str) -> types.CodeType:
    """The code object stored under `name`, or `source()` compiled (as `filename`) and stored there."""
    found = read_value(name, types.CodeType)
    if found is None:
        found = compile(source(), filename, "exec")
        write(name, marshal.dumps(found))
    return found
