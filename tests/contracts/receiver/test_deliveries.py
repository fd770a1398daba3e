"""The deliveries are the mock's own: its renderer's bodies, its dispatcher's headers and ids, its faults."""

from __future__ import annotations

import json

from contracts.receiver.deliveries import Delivery, harvest, pick
from contracts.receiver.scenarios import BURST_DEFAULT
from mock_server.run.receiver import payload_violations

FIRST_ID = "ad7f9c42-4f4b-4490-b44b-37ec10605992"  # the mock's first messageId for seed 0


def _json(delivery: Delivery) -> dict[str, object]:
    message: dict[str, object] = json.loads(delivery.body)
    return message


def test_every_final_is_a_valid_message_of_its_kind() -> None:
    found = harvest(0, BURST_DEFAULT)
    done, fail, grid, video = (_json(found.final(r)) for r in ("done", "fail", "mj-grid", "video"))
    assert done["messageId"] == FIRST_ID  # same seed, same ids as `flux-mock serve --seed 0`
    assert (done["status"], done["uri"], done["ref"]) == ("DONE", done["images"][0], "verify-receiver:done")  # type: ignore[index]
    assert fail["status"] == "FAIL"
    assert fail["error"]
    assert "images" not in fail
    assert grid["buttons"] == ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]
    assert video["videoUrl"]
    assert video["results"]
    assert "images" not in video
    for role in found.by_role:
        for delivery in found.of(role):
            problems = payload_violations(_json(delivery))
            assert bool(problems) == (role == "corrupt"), (role, problems)


def test_headers_and_ids_are_the_dispatchers() -> None:
    found = harvest(0, BURST_DEFAULT)
    delivery = found.final("duplicate")
    headers = dict(delivery.headers)
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "flux-mock-webhooks"
    assert headers["X-Mock-Delivery-Id"] == delivery.delivery_id
    assert (headers["X-Mock-Attempt"], headers["X-Mock-Event"]) == ("1", "final")
    assert not any(name.startswith("webhook-") for name in headers)  # signed when sent, per attempt
    message_ids = [d.message_id for role in found.by_role for d in found.of(role)[:1]]
    assert len(set(message_ids)) == len(found.by_role)  # two mocks, two seeds: no job shares an id


def test_the_fault_scenarios_come_in_the_mocks_order() -> None:
    found = harvest(0, BURST_DEFAULT)
    progress = [_json(d)["progress"] for d in found.progress("progress")]
    assert progress == sorted(progress)
    assert len(progress) > 10
    assert [d.event for d in found.of("progress")][-2:] == ["progress", "final"]  # the scenario sends progress only
    for role in ("progress-after-final", "early-final"):
        first, *rest = found.of(role)
        assert first.event == "final"
        assert _json(first)["status"] == "DONE"
        assert rest
        assert {_json(d)["status"] for d in rest} == {"PROCESSING"}
    corrupt = _json(found.final("corrupt"))
    assert (corrupt["status"], corrupt["progress"], "updatedAt" in corrupt) == ("done?", "100%", False)
    assert len({found.final(f"burst-{i}").message_id for i in range(2)}) == 2


def test_pick_spreads_first_to_last() -> None:
    items = harvest(0, BURST_DEFAULT).progress("progress")
    chosen = pick(items, 4)
    assert (chosen[0], chosen[-1], len(chosen)) == (items[0], items[-1], 4)
    assert pick(items[:2], 4) == tuple(items[:2])


def test_another_seed_sends_other_ids() -> None:
    assert harvest(1, BURST_DEFAULT).final("done").message_id != FIRST_ID
