"""Build and run the Containerfile with buildah, without a registry (tests/container).

The base image is made here: mmdebstrap writes a Debian root filesystem, buildah imports it (`from scratch`,
`add`, `commit`) under a tag that carries a hash of how it was made, and a later run reuses it. The image is
then built with ``--build-arg BASE=<that tag>`` and run with ``buildah run --isolation chroot``, which shares the
host's network (podman's OCI runtime is refused here: setrlimit, permission denied).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
CONTAINERFILE = REPO / "Containerfile"
TOOLS = {"buildah": "buildah", "mmdebstrap": "mmdebstrap"}
INSTALL_HINT = "apt-get install -y buildah mmdebstrap (as root; .ci/run and the README's test command do)"

# The base: Debian's python3 (3.11 on bookworm, the suite this machine's apt uses), venv for the Containerfile's
# virtual environment, passwd for useradd, curl for poking at a container by hand.
DEBIAN_SUITE = "bookworm"
MMDEBSTRAP = (
    "mmdebstrap",
    "--variant=apt",
    "--include=python3,python3-venv,python3-pip,ca-certificates,curl,passwd",
    DEBIAN_SUITE,
)
BASE_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BASE_NAME = "localhost/flux-mock-test-base"
IMAGE_NAME = "localhost/flux-mock-test"

# What the build borrows from this machine to reach the package index (its CA bundle and pip's global config),
# read-only. A user's own `docker build` needs none of it.
LENT = ("/etc/ssl/certs", "/etc/pip.conf")

MMDEBSTRAP_TIMEOUT_S = 900.0
BUILD_TIMEOUT_S = 1200.0
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


class CommandFailed(AssertionError):
    """Raised when a buildah or mmdebstrap command exits non-zero: names the command and shows its output."""


def require_tools() -> dict[str, str]:
    """Each tool's path; fails (never skips) naming the install command when one is missing."""
    found = {name: shutil.which(binary) for name, binary in TOOLS.items()}
    missing = sorted(name for name, path in found.items() if path is None)
    if missing:
        pytest.fail(f"{', '.join(missing)} not found on PATH: {INSTALL_HINT}", pytrace=False)
    return {name: path for name, path in found.items() if path is not None}


def run(args: Sequence[str], *, timeout: float = 120.0, log: Path | None = None) -> str:
    """Run a command to completion; its stdout. On failure: the command, the exit status and the output's tail."""
    if log is None:
        done = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        output = done.stdout + done.stderr
    else:
        with log.open("w") as sink:
            done = subprocess.run(
                list(args), stdout=sink, stderr=subprocess.STDOUT, text=True, timeout=timeout, stdin=subprocess.DEVNULL
            )
        output = log.read_text(errors="replace")
    if done.returncode != 0:
        tail = "\n".join(output.splitlines()[-40:])
        where = f" (whole log: {log})" if log is not None else ""
        raise CommandFailed(f"`{' '.join(args)}` exited with {done.returncode}{where}:\n{tail}")
    return done.stdout if log is None else output


def image_exists(name: str) -> bool:
    probe = subprocess.run(
        ["buildah", "inspect", "--type", "image", name], capture_output=True, timeout=60, stdin=subprocess.DEVNULL
    )
    return probe.returncode == 0


def base_tag() -> str:
    """The base image's name: a hash of how it is made, so a change to the recipe makes a new one."""
    recipe = json.dumps([MMDEBSTRAP, BASE_PATH]).encode()
    return f"{BASE_NAME}:{hashlib.sha256(recipe).hexdigest()[:16]}"


def ensure_base(workdir: Path) -> tuple[str, bool]:
    """The Debian base image, made once and kept (by `base_tag`); (its name, whether it was made now)."""
    tag = base_tag()
    # Two test runs at once (other checkouts) would both make it; one waits for the other instead.
    with open(Path(os.environ.get("TMPDIR", "/tmp")) / "flux-mock-test-base.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image_exists(tag):
            return tag, False
        rootfs = workdir / "rootfs.tar"
        run([*MMDEBSTRAP, str(rootfs)], timeout=MMDEBSTRAP_TIMEOUT_S, log=workdir / "mmdebstrap.log")
        container = run(["buildah", "from", "scratch"]).strip()
        try:
            run(["buildah", "add", "--quiet", container, str(rootfs), "/"], timeout=600)
            run(["buildah", "config", "--env", BASE_PATH, container])
            run(["buildah", "commit", "--quiet", container, tag], timeout=600)
        finally:
            subprocess.run(["buildah", "rm", container], capture_output=True, timeout=60)
            rootfs.unlink(missing_ok=True)
        return tag, True


def build_image(base: str, log: Path) -> str:
    """``buildah bud`` the Containerfile on `base`; the image's name (unique, so parallel runs do not collide)."""
    tag = f"{IMAGE_NAME}:{os.getpid()}-{uuid.uuid4().hex[:8]}"
    volumes = [arg for path in LENT if Path(path).exists() for arg in ("-v", f"{path}:{path}:ro")]
    run(
        [
            "buildah",
            "bud",
            "--isolation",
            "chroot",
            "--format",
            "docker",  # keeps HEALTHCHECK (the OCI format has no such field)
            "--no-cache",
            "--force-rm",  # a failed build leaves no working containers behind (needs --no-cache or --layers)
            "--build-arg",
            f"BASE={base}",
            *volumes,
            "-f",
            str(CONTAINERFILE),
            "-t",
            tag,
            str(REPO),
        ],
        timeout=BUILD_TIMEOUT_S,
        log=log,
    )
    return tag


def remove_image(name: str) -> None:
    subprocess.run(["buildah", "rmi", "--force", name], capture_output=True, timeout=120, stdin=subprocess.DEVNULL)


def image_config(name: str) -> dict[str, Any]:
    """The image's docker-format config: Entrypoint, Cmd, User, ExposedPorts, Healthcheck, Env, WorkingDir."""
    document = json.loads(run(["buildah", "inspect", "--type", "image", name]))
    config: dict[str, Any] = document["Docker"]["config"]
    return config


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def with_flag(command: Sequence[str], flag: str, value: str) -> list[str]:
    """`command` with the value after `flag` replaced; fails if the command has no such flag."""
    args = list(command)
    if flag not in args[:-1]:
        raise AssertionError(f"the image's command {args} has no {flag} VALUE to override")
    args[args.index(flag) + 1] = value
    return args


@dataclass
class Running:
    """One `buildah run` of the image in its own working container, serving on a loopback port."""

    image: str
    command: list[str]
    port: int
    env: Mapping[str, str]
    log: Path
    container: str = ""
    started_s: float = 0.0
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Running:
        began = time.monotonic()
        self.container = run(["buildah", "from", "--name", f"flux-mock-test-{uuid.uuid4().hex[:12]}", self.image])
        self.container = self.container.strip()
        envs = [arg for key, value in self.env.items() for arg in ("--env", f"{key}={value}")]
        with self.log.open("wb") as sink:
            # A session of its own: buildah, its chroot helper and flux-mock are then one process group to stop.
            self._proc = subprocess.Popen(
                ["buildah", "run", "--isolation", "chroot", *envs, self.container, "--", *self.command],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # Ready when /__mock/health says so; with a token in the environment, sent as the HEALTHCHECK sends it.
        token = {"X-Mock-Admin-Token": self.env["FLUX_MOCK_ADMIN_TOKEN"]} if "FLUX_MOCK_ADMIN_TOKEN" in self.env else {}
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self._proc.poll() is not None:
                raise AssertionError(f"the container exited with {self._proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(self.url + "/__mock/health", headers=token, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the container did not answer within {START_TIMEOUT_S:g} s:\n{self.output()}")
            time.sleep(0.2)  # a real process starting: a bounded poll, not a wait for a job
        self.started_s = time.monotonic() - began
        return self

    def exec(self, args: Sequence[str], env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run another command in the same container, with its environment (as a HEALTHCHECK is run) plus `env`."""
        merged = {**self.env, **(env or {})}
        envs = [arg for key, value in merged.items() for arg in ("--env", f"{key}={value}")]
        return subprocess.run(
            ["buildah", "run", "--isolation", "chroot", *envs, self.container, "--", *args],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        """Stop the process group (TERM, then KILL) and remove the working container. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(wait_s)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if proc is not None:
            # buildah may exit before its children; whatever is left of the group goes too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        if self.container:
            subprocess.run(["buildah", "rm", self.container], capture_output=True, timeout=60)
            self.container = ""
