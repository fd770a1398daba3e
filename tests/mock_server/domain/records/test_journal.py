"""The request journal's entries: built only when read, and the compact form a shared store mirrors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.contract.problems import Violation
from mock_server.domain.records.journal import Journal, entry_from_wire

STATE = {
    "account": "sk-live-abcdefQz",
    "operation_id": "fluxImagine",
    "message_id": "0d3f4c2a-1234-4abc-8def-0123456789ab",
    "violations": [Violation("body", "/n", "maximum", 4, 9, "9 is greater than 4", "send n from 1 to 4")],
    "body": b'{"prompt":"a red fox","n":9}',
    "tags": ["via:header", "slow"],
    "job": {"kind": "imagine", "prompt": "a red fox", "n": 2},
}


@pytest.mark.parametrize("show_keys", [False, True])
def test_the_wire_form_reads_back_as_the_entrys_json_form(show_keys: bool) -> None:
    journal = Journal(10, show_keys=show_keys)
    raw = (7, 1765000000.125, "POST", "/api/v1/flux/imagine", b"x=1", 400, 1.23456, dict(STATE))
    expected = journal.materialise(raw).as_dict()
    assert entry_from_wire(journal.wire(raw)) == expected
    assert expected["at"] == 1765000000.125
    assert expected["account"] == ("sk-live-abcdefQz" if show_keys else "sk-li…Qz")
    assert expected["job"] == {"kind": "imagine", "n": 2}  # the prompt is in the body, not repeated here
    assert expected["durationMs"] == 1.235


def test_a_record_appended_as_is_has_the_same_wire_form() -> None:
    journal = Journal(10)
    raw = (1, 5.0, "GET", "/p", b"", 200, 0.5, {"account": "sk-test-key-1"})
    record = journal.materialise(raw)
    assert journal.wire(record) == journal.wire(raw)


@given(
    keys=st.sets(st.sampled_from([*sorted(STATE), "dropped", "op", "bearer", "selection"])),
    show_keys=st.booleans(),
    status=st.sampled_from([200, 404, 503]),
    query=st.binary(max_size=8),
)
def test_every_state_has_a_wire_form_that_reads_back_as_its_entry(
    keys: set[str], show_keys: bool, status: int, query: bytes
) -> None:
    # Whatever the state holds (or leaves out), the wire form reads back as the entry.
    extra = {"dropped": True, "op": object(), "bearer": "sk-x", "selection": None}
    state = {k: STATE[k] if k in STATE else extra[k] for k in keys}
    journal = Journal(10, show_keys=show_keys)
    raw = (3, 1765000000.5, "GET", "/api/v1/message/fetch/x", query, status, 0.1234567, state)
    assert entry_from_wire(journal.wire(raw)) == journal.materialise(raw).as_dict()
