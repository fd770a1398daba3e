"""The heavy "iri" format checker loads on first use, and checks as before once it does."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import mock_server
from jsonschema import Draft202012Validator
assert getattr(sys.modules["rfc3987_syntax"], "__file__", None) is None, "rfc3987_syntax was imported at start"
check = Draft202012Validator({"format": "iri"}, format_checker=Draft202012Validator.FORMAT_CHECKER)
print(check.is_valid("http://例え.jp/ä"), check.is_valid("http://a b"), check.is_valid(":::"))
assert sys.modules["rfc3987_syntax"].__file__, "the real module did not take over"
"""


def test_rfc3987_syntax_is_imported_only_when_an_iri_is_checked() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "False"]
