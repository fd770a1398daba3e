"""Every shell session of README.md and docs/ runs, in order, against a served mock, and its outputs keep the shape
of the samples docs/gen_samples.py wrote: a reader who copies the commands gets what the page shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docs_scripts import ROOT, load

gen_samples = load("gen_samples")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_every_quick_session_runs_and_its_outputs_have_the_samples_shape() -> None:
    commands = gen_samples.every_command(slow=False)
    outputs = gen_samples.run_all(commands)
    assert gen_samples.differences(commands, outputs) == []


@pytest.mark.slow
def test_every_session_with_the_slow_ones_runs_and_keeps_the_samples_shape() -> None:
    # flux-mock check and verify take a minute or more: the slow tier (.ci/run) runs them, in page order.
    commands = gen_samples.every_command()
    assert any(c.slow for c in commands)
    outputs = gen_samples.run_all(commands)
    assert gen_samples.differences(commands, outputs) == []


def test_the_readme_and_the_walk_through_are_sessions_that_carry_ids_in_variables() -> None:
    commands = gen_samples.every_command()
    pages = {c.page.relative_to(ROOT).as_posix() for c in commands}
    assert {"README.md", "docs/client/walkthrough.md", "docs/qa/scenarios.md", "docs/qa/admin-api.md"} <= pages
    slow_pages = {c.page.relative_to(ROOT).as_posix() for c in commands if c.slow}
    assert {"docs/ci/check.md", "docs/client/verify.md"} <= slow_pages
    for c in commands:
        assert not UUID.search(c.text), f"{c.page.name}:{c.line + 1}: a literal id in `{c.text}`; use a variable"
    assert any("$ID" in c.text for c in commands)
    assert any("$GRID" in c.text and "Cancel Job" not in c.text for c in commands)


def test_a_changed_output_is_a_difference_and_ids_or_times_are_not() -> None:
    [command] = parse("$ curl x\n" + '{"success":true,"messageId":"ad7f9c42-4f4b-4490-b44b-37ec10605992"}')
    same = '{"success":true,"messageId":"0b1e1f00-0000-4000-8000-000000000000"}'
    assert gen_samples.differences([command], [same]) == []
    [found] = gen_samples.differences([command], ['{"success":false,"messageId":"x"}'])
    assert "curl x" in found
    assert gen_samples.differences([command], ['{"success":true}']) != []
    assert gen_samples.shape("200 image/webp at 2026-12-07T04:30:48.685Z") == ["N image/webp at TIME"]
    assert gen_samples.shape("done  pass  113 ms  0") == gen_samples.shape("done  pass  65 ms   0")


def test_a_mark_without_a_console_block_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"{gen_samples.MARK}\n\n    $ curl x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="must be followed by a ```console block"):
        gen_samples.commands(page)


def test_a_failing_command_names_its_page_and_line(tmp_path: Path) -> None:
    [ok, fails] = parse("$ echo one\none\n$ false")
    with pytest.raises(AssertionError, match=r"page\.md:3: `false` failed"):
        gen_samples.run([ok, fails], "http://127.0.0.1:9", tmp_path)


def test_the_readme_links_to_pages_that_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert links
    for link in links:
        assert (ROOT / link).is_file(), link


def parse(session: str) -> list[object]:
    page = ROOT / "tests" / "docs" / "page.md"  # never written: the commands are parsed from text
    commands: list[object] = []
    for n, line in enumerate(session.splitlines()):
        if line.startswith("$ "):
            commands.append(gen_samples.Command(page, n, line[2:], 1))
        else:
            commands[-1].sample.append(line)  # type: ignore[attr-defined]
    return commands
