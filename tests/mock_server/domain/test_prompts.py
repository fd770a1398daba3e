"""The flags a Midjourney prompt carries, and the prompt check's refusal of a malformed one."""

from __future__ import annotations

import pytest

from mock_server.domain import prompts


@pytest.mark.parametrize(
    ("prompt", "version", "v5"),
    [
        ("a fox", None, False),
        ("a fox --v 5", 5.0, True),
        ("a fox --version 5.2 --ar 3:2", 5.2, True),
        ("a fox --V 6.1", 6.1, False),
        ("a fox --v 5 --v 7", 7.0, False),  # the last one wins, as for --ar
        ("a fox --vivid 5", None, False),  # another word, not the flag
    ],
)
def test_the_version_flag(prompt: str, version: float | None, v5: bool) -> None:
    flags = prompts.flags(prompt)
    assert (flags.version, flags.v5_upscalers) == (version, v5)


@pytest.mark.parametrize("prompt", ["a fox --v five", "a fox --v", "a fox --version 5:2 --ar 3:2", "a fox --v 0"])
def test_a_malformed_version_is_refused_naming_the_flag_and_the_fix(prompt: str) -> None:
    problem = prompts.check(prompt, ())
    assert problem is not None
    assert problem.startswith("Invalid parameter: --v")
    assert "such as 6.1" in problem


@pytest.mark.parametrize("prompt", ["a fox --v 5.2", "a fox --version 7 --ar 16:9", "a fox, v 5"])
def test_a_wellformed_version_passes(prompt: str) -> None:
    assert prompts.check(prompt, ()) is None
