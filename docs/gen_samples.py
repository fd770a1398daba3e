"""Run the documentation's shell sessions against a served mock and write their sample outputs.

    python docs/gen_samples.py           # serve a mock, run every session in order, rewrite the sample outputs
    python docs/gen_samples.py --check   # the same run, exit 1 when an output's shape differs from its sample
    python docs/gen_samples.py --fast    # (with or without --check) leave out the slow sessions

A session is a fenced ``console`` block placed right after a ``<!-- run -->`` line (and a blank line);
``<!-- run: slow -->`` marks one that takes minutes (``flux-mock check``, ``verify``), run by the slow tier. Its lines
starting with ``$ `` are commands (a line ending in a backslash continues on the next); the lines under a
command are its sample output. Sessions run in order, README.md first and then the pages of mkdocs.yml's nav,
as one bash script (``set -euo pipefail``) in a scratch folder that links the checkout's ``examples`` and
``tests``, so shell variables (``$ID``, ``$GRID``) carry ids
from one command to the next. The mock is ``flux-mock serve`` with its defaults (seed 0, jobs take 3 s) on a
free loopback port; ``http://127.0.0.1:8080`` in a command is that port's address, and ports 8081, 8000 and
8001 (where a session starts a server of its own: the proxy, webhook receivers) are other free ports.

Outputs are compared by shape, never by value: a JSON line by its keys and its ``success``, ``status``,
``statusCode`` and ``error`` values (a list of
objects item by item); any other line with ids, timestamps and numbers blanked out and its spaces collapsed
(columns padded to a figure's width move with it).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
MARK = "<!-- run -->"
SLOW_MARK = "<!-- run: slow -->"
LINKED = ("examples", "tests")  # what commands name by a path relative to the checkout
READER_BASE = "http://127.0.0.1:8080"
READER_PORTS = ("8081", "8000", "8001")  # servers a session starts itself (proxy, receivers): free ports
SHOWN_VALUES = ("success", "status", "statusCode", "error")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)")
_NUMBER = re.compile(r"\d+(\.\d+)?")


@dataclass
class Command:
    """One ``$ `` command of a session and the sample output under it."""

    page: Path
    line: int  # 0-based index of its first line in the page
    text: str  # the command as bash reads it (continuation lines included)
    length: int  # lines the command takes
    sample: list[str] = field(default_factory=list)
    slow: bool = False


def pages() -> list[Path]:
    """README.md, then the documentation pages in the order of mkdocs.yml's nav."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    docs = ROOT / config.get("docs_dir", "docs")
    return [ROOT / "README.md", *(docs / name for name in _nav_files(config["nav"]))]


def _nav_files(nav: Any) -> Iterator[str]:
    if isinstance(nav, str):
        yield nav
    elif isinstance(nav, list):
        for item in nav:
            yield from _nav_files(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            yield from _nav_files(value)


def commands(page: Path) -> list[Command]:
    """The commands of a page's sessions, in order, each with its sample output."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Command] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() not in {MARK, SLOW_MARK}:
            i += 1
            continue
        slow = lines[i].strip() == SLOW_MARK
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j >= len(lines) or lines[j].strip() != "```console":
            raise ValueError(f"{page.name}:{i + 1}: {MARK} must be followed by a ```console block")
        j += 1
        current: Command | None = None
        while lines[j].strip() != "```":
            if lines[j].startswith("$ "):
                start = j
                text = [lines[j][2:]]
                while text[-1].endswith("\\"):
                    j += 1
                    text.append(lines[j])
                current = Command(page, start, "\n".join(text), j - start + 1, slow=slow)
                found.append(current)
            elif current is None:
                raise ValueError(f"{page.name}:{j + 1}: output before any $ command")
            else:
                current.sample.append(lines[j])
            j += 1
        i = j + 1
    return found


def every_command(*, slow: bool = True) -> list[Command]:
    """Every command of every page, in order (without the slow sessions' when `slow` is false)."""
    return [c for page in pages() for c in commands(page) if slow or not c.slow]


# --- running -----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served_mock(*extra: str) -> Iterator[str]:
    """``flux-mock serve`` with its defaults on a free loopback port, until the block ends; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "mock_server", "serve", "--port", str(port), *extra]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/__mock/health", timeout=1):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError("flux-mock serve did not start:\n" + log.read().decode()) from None
                    time.sleep(0.1)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def run(cmds: Sequence[Command], base: str, workdir: Path) -> list[str]:
    """Run the commands in order as one bash script in `workdir`; each command's output, as a reader sees it."""
    outputs = workdir / "outputs"
    outputs.mkdir()
    for name in LINKED:
        (workdir / name).symlink_to(ROOT / name, target_is_directory=True)
    ports = {reader: str(free_port()) for reader in READER_PORTS}
    script = ["set -euo pipefail"]
    for n, c in enumerate(cmds):
        text = c.text.replace(READER_BASE, base)
        for reader, port in ports.items():
            text = re.sub(rf"\b{reader}\b", port, text)
        script.append(f"echo {n} > {outputs}/at")
        script.append("{\n" + text + "\n} > " + f"{outputs}/{n}")
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=900,
        # `python` and `flux-mock` in a session are this interpreter's, as in an activated virtual environment
        env={
            **os.environ,
            "LC_ALL": "C.UTF-8",
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        },
        check=False,
    )
    if done.returncode != 0:
        at = int((outputs / "at").read_text())
        c = cmds[at]
        raise AssertionError(
            f"{c.page.relative_to(ROOT)}:{c.line + 1}: `{c.text}` failed (exit {done.returncode}):\n{done.stderr}"
        )
    results = []
    for n in range(len(cmds)):
        text = (outputs / f"{n}").read_text(encoding="utf-8").replace(base, READER_BASE)
        for reader, port in ports.items():
            text = re.sub(rf"\b{port}\b", reader, text)
        results.append(text.rstrip("\n"))
    return results


def run_all(cmds: Sequence[Command]) -> list[str]:
    with served_mock() as base, tempfile.TemporaryDirectory() as scratch:
        return run(cmds, base, Path(scratch))


# --- shapes ------------------------------------------------------------------------------------------------


def shape(text: str) -> list[Any]:
    """What an output must keep from one run to the next: per line, JSON keys and statuses, or the blanked text."""
    out: list[Any] = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        if isinstance(value, dict):
            out.append(_json_shape(value))
        elif isinstance(value, list) and all(isinstance(item, dict) for item in value):
            out.append([_json_shape(item) for item in value])
        else:
            out.append(" ".join(_NUMBER.sub("N", _TIME.sub("TIME", _UUID.sub("ID", line))).split()))
    return out


def _json_shape(value: dict[str, Any]) -> dict[str, Any]:
    return {"keys": sorted(value), **{k: value[k] for k in SHOWN_VALUES if k in value}}


def differences(cmds: Sequence[Command], outputs: Sequence[str]) -> list[str]:
    """Each command whose output's shape differs from its sample's, named by page and line."""
    found = []
    for c, text in zip(cmds, outputs, strict=True):
        if shape("\n".join(c.sample)) != shape(text):
            where = f"{c.page.relative_to(ROOT)}:{c.line + 1}"
            found.append(f"{where}: `{c.text}`\n  sample: {c.sample}\n  now:    {text.splitlines()}")
    return found


def write(cmds: Sequence[Command], outputs: Sequence[str]) -> None:
    """Put each output under its command, in place of the sample (pages rewritten bottom-up so lines hold)."""
    by_page: dict[Path, list[tuple[Command, str]]] = {}
    for c, text in zip(cmds, outputs, strict=True):
        by_page.setdefault(c.page, []).append((c, text))
    for page, pairs in by_page.items():
        lines = page.read_text(encoding="utf-8").splitlines()
        for c, text in reversed(pairs):
            start = c.line + c.length
            lines[start : start + len(c.sample)] = text.splitlines()
        page.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Sequence[str]) -> int:
    cmds = every_command(slow="--fast" not in argv)
    outputs = run_all(cmds)
    if "--check" in argv:
        found = differences(cmds, outputs)
        print("\n".join(found) or f"{len(cmds)} commands: every output has its sample's shape")
        return 1 if found else 0
    write(cmds, outputs)
    print(f"{len(cmds)} commands run; samples written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
