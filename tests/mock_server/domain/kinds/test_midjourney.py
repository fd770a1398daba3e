"""Midjourney on the mock's clock: grids, buttons, cancel, describe, blend, face swap, and the flags in a prompt."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette

from mock_server import Settings, VirtualClock, create_app
from mock_server.domain.kinds.buttons import GRID_BUTTONS, REROLL, V5_UPSCALERS, V6_UPSCALERS, upscaled_buttons

pytestmark = pytest.mark.anyio

IMAGINE = "/api/v1/nova/imagine"
BUTTON = "/api/v1/nova/button"
FETCH = "/api/v1/message/fetch/{}"
MASK = "UklGRiQAAABXRUJQVlA4WAoAAAAQAAAAAAAAAAAAQUxQSAIAAAAAAFZQOCAYAAAAMAEAnQEqAQABAAIANCWkAANwAP77/VAA"


async def create(api: httpx.AsyncClient, path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = await api.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


async def poll(api: httpx.AsyncClient, message_id: str) -> dict[str, Any]:
    response = await api.get(FETCH.format(message_id))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def done_grid(api: httpx.AsyncClient, clock: VirtualClock, prompt: str = "a red fox") -> str:
    message_id = str((await create(api, IMAGINE, {"prompt": prompt}))["messageId"])
    clock.advance(10)
    assert (await poll(api, message_id))["status"] == "DONE"
    return message_id


async def test_a_grid_moves_in_steps_and_lists_its_buttons_when_done(
    api: httpx.AsyncClient, clock: VirtualClock
) -> None:
    message_id = (await create(api, IMAGINE, {"prompt": "a red fox --ar 16:9"}))["messageId"]
    seen = []
    for _ in range(12):
        body = await poll(api, message_id)
        seen.append(body["progress"])
        assert "buttons" not in body or body["status"] == "DONE"
        clock.advance(0.25)
    assert seen == sorted(seen)
    assert {p % 15 for p in seen if p < 100} == {0}  # Midjourney's jumps, not percent by percent
    assert len(set(seen)) > 3
    clock.advance(10)
    done = await poll(api, message_id)
    assert done["status"] == "DONE"
    assert done["buttons"] == list(GRID_BUTTONS)
    assert done["uri"] == done["images"][0]
    image = Image.open(io.BytesIO((await api.get(done["uri"])).content))
    assert image.size == (1024, 576)  # --ar 16:9 on a 1024 px grid


async def test_u1_makes_an_upscale_of_quadrant_one_with_the_upscaled_buttons(
    api: httpx.AsyncClient, clock: VirtualClock
) -> None:
    grid = await done_grid(api, clock)
    upscale = (await create(api, BUTTON, {"messageId": grid, "button": "U1"}))["messageId"]
    assert upscale != grid
    clock.advance(10)
    done = await poll(api, upscale)
    assert (done["status"], done["originatingMessageId"], done["prompt"]) == ("DONE", grid, "a red fox")
    assert done["buttons"] == list(upscaled_buttons(1024, 1024))
    assert "Make Square" not in done["buttons"]
    picture = (await api.get(done["uri"])).content
    assert Image.open(io.BytesIO(picture)).size == (1024, 1024)


async def test_a_non_square_upscale_offers_make_square_and_it_makes_a_square_grid(
    api: httpx.AsyncClient, clock: VirtualClock
) -> None:
    grid = await done_grid(api, clock, "a red fox --ar 3:2")
    upscale = (await create(api, BUTTON, {"messageId": grid, "button": "U2"}))["messageId"]
    clock.advance(10)
    assert "Make Square" in (await poll(api, upscale))["buttons"]
    square = (await create(api, BUTTON, {"messageId": upscale, "button": "Make Square"}))["messageId"]
    clock.advance(10)
    done = await poll(api, square)
    assert (done["buttons"], done["originatingMessageId"]) == (list(GRID_BUTTONS), upscale)
    assert Image.open(io.BytesIO((await api.get(done["uri"])).content)).size == (1024, 1024)


async def upscaled(api: httpx.AsyncClient, clock: VirtualClock, target: str, button: str) -> dict[str, Any]:
    made = (await create(api, BUTTON, {"messageId": target, "button": button}))["messageId"]
    clock.advance(10)
    done = await poll(api, made)
    assert (done["status"], done["originatingMessageId"]) == ("DONE", target)
    return done


async def test_a_v5_grid_upscales_with_2x_and_4x_and_their_results_offer_the_redo(
    api: httpx.AsyncClient, clock: VirtualClock
) -> None:
    grid = await done_grid(api, clock, "a red fox --ar 3:2 --v 5.2")
    upscale = await upscaled(api, clock, grid, "U1")
    assert upscale["buttons"] == list(upscaled_buttons(1024, 680, V5_UPSCALERS))
    for subtle in V6_UPSCALERS:  # v6's upscalers are not offered on a v5 image: refused like any button not offered
        refused = await create(api, BUTTON, {"messageId": upscale["messageId"], "button": subtle}, status=409)
        assert "Upscale (2x), Upscale (4x)" in refused["message"][0]
    twice = await upscaled(api, clock, upscale["messageId"], "Upscale (2x)")
    assert twice["buttons"][:2] == ["Redo Upscale (2x)", "Upscale (4x)"]
    assert Image.open(io.BytesIO((await api.get(twice["uri"])).content)).size == (2048, 1360)
    await create(api, BUTTON, {"messageId": twice["messageId"], "button": "Upscale (2x)"}, status=409)
    redone = await upscaled(api, clock, twice["messageId"], "Redo Upscale (2x)")
    assert redone["buttons"] == twice["buttons"]  # the same upscale again, the same size
    four = await upscaled(api, clock, upscale["messageId"], "Upscale (4x)")
    assert four["buttons"][:2] == ["Upscale (2x)", "Redo Upscale (4x)"]
    # 4x of 1024 px would pass 4096: the longer side stops there and the image keeps its 3:2 shape.
    assert Image.open(io.BytesIO((await api.get(four["uri"])).content)).size == (4096, 2720)
    assert "Make Square" in four["buttons"]
    redo_four = await upscaled(api, clock, four["messageId"], "Redo Upscale (4x)")
    assert redo_four["buttons"] == four["buttons"]


async def test_a_v6_upscale_offers_subtle_and_creative_not_the_v5_upscalers(
    api: httpx.AsyncClient, clock: VirtualClock
) -> None:
    grid = await done_grid(api, clock, "a red fox --v 6.1")
    upscale = await upscaled(api, clock, grid, "U1")
    assert upscale["buttons"][:2] == list(V6_UPSCALERS)
    for button in ("Upscale (2x)", "Redo Upscale (4x)"):
        await create(api, BUTTON, {"messageId": upscale["messageId"], "button": button}, status=409)
    creative = await upscaled(api, clock, upscale["messageId"], "Upscale (Creative)")
    assert creative["buttons"][:2] == list(V6_UPSCALERS)
    assert not any(b.startswith("Redo") for b in creative["buttons"])


@pytest.mark.parametrize("button", ["V2", REROLL])
async def test_variations_and_the_reroll_make_new_grids(
    api: httpx.AsyncClient, clock: VirtualClock, button: str
) -> None:
    grid = await done_grid(api, clock)
    made = (await create(api, BUTTON, {"messageId": grid, "button": button}))["messageId"]
    clock.advance(10)
    done = await poll(api, made)
    assert (done["buttons"], done["originatingMessageId"]) == (list(GRID_BUTTONS), grid)


async def test_a_button_the_message_does_not_offer_is_a_409_naming_what_it_offers(
    api: httpx.AsyncClient, clock: VirtualClock
) -> None:
    grid = await done_grid(api, clock)
    body = await create(api, BUTTON, {"messageId": grid, "button": "Zoom Out 2x"}, status=409)
    assert "it offers: U1, U2, U3, U4" in body["message"][0]
    assert body["details"][0]["pointer"] == "/button"


async def test_a_target_that_is_not_done_or_unknown(api: httpx.AsyncClient, clock: VirtualClock) -> None:
    running = (await create(api, IMAGINE, {"prompt": "slow"}))["messageId"]
    body = await create(api, BUTTON, {"messageId": running, "button": "U1"}, status=409)
    assert "press its buttons once it is DONE" in body["message"][0]
    missing = "00000000-0000-4000-8000-000000000000"
    await create(api, BUTTON, {"messageId": missing, "button": "U1"}, status=404)


async def test_cancel_job_ends_a_running_job_as_fail_and_only_while_running(
    api: httpx.AsyncClient, clock: VirtualClock, app: Starlette
) -> None:
    running = (await create(api, IMAGINE, {"prompt": "to cancel"}))["messageId"]
    clock.advance(1.5)
    answer = await create(api, BUTTON, {"messageId": running, "button": "Cancel Job"})
    assert answer["messageId"] == running
    cancelled = await poll(api, running)
    assert (cancelled["status"], cancelled["error"]) == ("FAIL", "Job cancelled")
    assert 0 < cancelled["progress"] < 100
    body = await create(api, BUTTON, {"messageId": running, "button": "Cancel Job"}, status=409)
    assert "only while a job is in progress" in body["message"][0]
    assert len(app.state.control.jobs) == 1  # cancelling made no job


async def test_vary_region_needs_a_mask_and_an_upscaled_message(api: httpx.AsyncClient, clock: VirtualClock) -> None:
    grid = await done_grid(api, clock)
    upscale = (await create(api, BUTTON, {"messageId": grid, "button": "U3"}))["messageId"]
    clock.advance(10)
    no_mask = await create(api, BUTTON, {"messageId": upscale, "button": "Vary (Region)"}, status=400)
    assert no_mask["details"][0]["pointer"] == "/mask"
    await create(api, BUTTON, {"messageId": grid, "button": "Vary (Region)", "mask": MASK}, status=409)
    inpainted = await create(
        api, BUTTON, {"messageId": upscale, "button": "Vary (Region)", "mask": MASK, "prompt": "a hat"}
    )
    clock.advance(10)
    done = await poll(api, inpainted["messageId"])
    assert (done["status"], done["prompt"], done["originatingMessageId"]) == ("DONE", "a hat", upscale)


async def test_flags_relax_costs_less_and_runs_slower(clock: VirtualClock) -> None:
    app = create_app(Settings(seed=1, job_seconds=3, credits=15), clock=clock)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": "Bearer sk-a"}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", headers=headers) as api:
        relax = (await create(api, IMAGINE, {"prompt": "a fox --relax"}))["messageId"]
        fast = (await create(api, IMAGINE, {"prompt": "a fox --fast"}))["messageId"]
        assert app.state.control.credits == {"sk-a": 0}  # 5 + 10
        broke = await create(api, IMAGINE, {"prompt": "one more"}, status=401)
        assert broke["message"] == "Insufficient credits"
        clock.advance(3)
        assert (await poll(api, fast))["status"] == "DONE"
        assert (await poll(api, relax))["status"] == "PROCESSING"
        info = (await api.get("/api/v1/subscription/account-info")).json()
        assert info["credits"] == 0


async def test_describe_blend_and_faceswap(api: httpx.AsyncClient, clock: VirtualClock) -> None:
    described = (await create(api, "/api/v1/nova/describe", {"url": "https://example.com/a.png"}))["messageId"]
    blended = await create(api, "/api/v1/midjourney/blend", {"urls": ["https://a.test/1.png", "https://a.test/2.png"]})
    swapped = await create(
        api, "/api/v1/nova/faceswap", {"source": "https://a.test/s.png", "target": "https://a.test/t.png"}
    )
    clock.advance(10)
    text = await poll(api, described)
    assert len(text["content"]) == 4
    assert text["content"][0].startswith("1\ufe0f\u20e3 ")
    assert "uri" not in text
    grid = await poll(api, blended["messageId"])
    assert grid["buttons"] == list(GRID_BUTTONS)
    assert "prompt" not in grid
    face = await poll(api, swapped["messageId"])
    assert "buttons" not in face
    assert (await api.get(face["uri"])).status_code == 200
    await create(api, "/api/v1/midjourney/blend", {"urls": ["https://a.test/only.png"]}, status=400)


async def test_snake_case_keys_from_a_plain_dict_are_accepted(api: httpx.AsyncClient, clock: VirtualClock) -> None:
    grid = await done_grid(api, clock)
    made = await create(api, BUTTON, {"message_id": grid, "button": "U2", "webhook_override": None})
    assert made["success"] is True
