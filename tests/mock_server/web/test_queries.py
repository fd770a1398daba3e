"""Tools, universal, video, and the operations answered at once: history, prompt check/extend, account, DIY."""

from __future__ import annotations

import io
from typing import Any

import av
import httpx
import pytest
from PIL import Image

from mock_server import Settings, VirtualClock, create_app

pytestmark = pytest.mark.anyio


def client(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://t", headers={"Authorization": "Bearer k"})


async def post(api: httpx.AsyncClient, path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = await api.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


async def finished(api: httpx.AsyncClient, clock: VirtualClock, path: str, body: dict[str, Any]) -> dict[str, Any]:
    message_id = (await post(api, path, body))["messageId"]
    clock.advance(10)
    message: dict[str, Any] = (await api.get(f"/api/v1/message/fetch/{message_id}")).json()
    assert message["status"] == "DONE", message
    return message


async def test_remove_bg_gives_a_png_with_alpha(api: httpx.AsyncClient, clock: VirtualClock) -> None:
    done = await finished(api, clock, "/api/v1/tools/remove-bg", {"image": "https://example.com/cat.jpg"})
    picture = await api.get(done["uri"])
    assert picture.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(picture.content))
    assert image.mode == "RGBA"
    alphas = image.getchannel("A").getextrema()
    assert alphas == (0, 255)


@pytest.mark.parametrize(
    ("path", "body", "prompt"),
    [
        (
            "/api/v1/universal/imagine",
            {
                "contents": [{"type": "image", "url": "https://e.test/i.png"}, {"type": "text", "text": "make it red"}],
                "model": "nano-banana-2",
                "ref": "ref-id",
            },
            "make it red",
        ),
        ("/api/v1/gemini/imagine", {"contents": [{"type": "text", "text": "a dress"}]}, "a dress"),
        (
            "/api/v1/universal/zimage",
            {"prompt": "a girl --ar 3:4", "steps": 4, "width": 768, "height": 1024},
            "a girl --ar 3:4",
        ),
    ],
)
async def test_universal_gemini_and_zimage(
    api: httpx.AsyncClient, clock: VirtualClock, path: str, body: dict[str, Any], prompt: str
) -> None:
    done = await finished(api, clock, path, body)
    assert done["prompt"] == prompt
    assert (await api.get(done["uri"])).status_code == 200


async def test_contents_blocks_must_match_their_type(api: httpx.AsyncClient) -> None:
    bad = await post(
        api, "/api/v1/universal/imagine", {"contents": [{"type": "text", "url": "https://e.test/x.png"}]}, 400
    )
    assert bad["details"][0]["pointer"].startswith("/contents/0")


async def test_video_results_are_playable_mp4s_and_extend_one(api: httpx.AsyncClient, clock: VirtualClock) -> None:
    body = {"startFrameUrl": "https://e.test/a.jpg", "endFrameUrl": "https://e.test/b.jpg"}
    video_id = (await post(api, "/api/v1/video/mj/generate", body))["messageId"]
    clock.advance(10)
    done = (await api.get(f"/api/v1/video/mj/fetch/{video_id}")).json()
    assert done["status"] == "DONE"
    assert [r["index"] for r in done["results"]] == [0, 1, 2, 3]
    assert done["videoUrl"] == done["results"][0]["url"]
    assert "uri" not in done
    clip = await api.get(done["results"][1]["url"])
    assert clip.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(clip.content)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (480, 480)
    extended = (await post(api, "/api/v1/video/mj/extend", {"messageId": video_id, "index": 2}))["messageId"]
    clock.advance(10)
    after = (await api.get(f"/api/v1/video/mj/fetch/{extended}")).json()
    assert (after["status"], after["originatingMessageId"]) == ("DONE", video_id)
    not_video = await finished(api, clock, "/api/v1/tools/remove-bg", {"image": "https://e.test/x.png"})
    refused = await post(api, "/api/v1/video/mj/extend", {"messageId": not_video["messageId"], "index": 0}, 409)
    assert "is not a video job" in refused["message"][0]


async def test_prompt_check_and_extend(api: httpx.AsyncClient) -> None:
    assert await post(api, "/api/v1/nova/prompt-check", {"prompt": "a calm lake"}) == {"status": "SUCCESS"}
    failed = await post(api, "/api/v1/nova/prompt-check", {"prompt": "Gore everywhere"})
    assert failed == {"status": "FAIL", "message": "forbidden: The prompt has blocked words: gore"}
    bad_flag = await post(api, "/api/v1/nova/prompt-check", {"prompt": "a lake --ar wide"})
    assert bad_flag["status"] == "FAIL"
    extended = await post(api, "/api/v1/tools/prompt-extend", {"prompt": "a sunset"})
    assert extended["prompt"].startswith("a sunset, ")
    assert extended == await post(api, "/api/v1/tools/prompt-extend", {"prompt": "a sunset"})


async def test_the_ban_list_is_a_setting(clock: VirtualClock) -> None:
    app = create_app(Settings(seed=1, banned_words=("pineapple",)), clock=clock)
    async with client(app) as api:
        assert (await post(api, "/api/v1/nova/prompt-check", {"prompt": "gore"}))["status"] == "SUCCESS"
        assert (await post(api, "/api/v1/nova/prompt-check", {"prompt": "Pineapple pizza"}))["status"] == "FAIL"


async def test_account_info_reports_the_balance_the_mock_charges(clock: VirtualClock) -> None:
    settings = Settings(seed=1, credits=100, plan_type="PRO", account_email="me@example.test", credits_quota=500)
    app = create_app(settings, clock=clock)
    async with client(app) as api:
        await post(api, "/api/v1/nova/imagine", {"prompt": "a fox"})
        info = (await api.get("/api/v1/subscription/account-info")).json()
        shown = (info["type"], info["email"], info["credits"], info["creditsQuota"])
        assert shown == ("PRO", "me@example.test", 90, 500)
        scenario = await api.get("/api/v1/subscription/account-info", headers={"X-Mock-Scenario": "credits:7"})
        assert scenario.json()["credits"] == 7


async def test_history_lists_the_last_day_newest_first_and_pages(api: httpx.AsyncClient, clock: VirtualClock) -> None:
    first = await finished(api, clock, "/api/v1/nova/imagine", {"prompt": "first"})
    second = await finished(api, clock, "/api/v1/flux/imagine", {"prompt": "second"})
    listed = (await api.get("/api/v1/nova/images")).json()["images"]
    assert [i["id"] for i in listed] == [second["messageId"], first["messageId"]]
    assert listed[1] == {
        "id": first["messageId"],
        "type": "mj-imagine",
        "button": "",
        "prompt": "first",
        "uri": first["uri"],
        "createdAt": first["createdAt"],
    }
    page_two = (await api.get("/api/v1/midjourney/images", params={"page": 2, "size": 1})).json()["images"]
    assert [i["id"] for i in page_two] == [first["messageId"]]
    clock.advance(86_400)
    assert (await api.get("/api/v1/nova/images")).json() == {"images": []}
    bad = await api.get("/api/v1/nova/images", params={"size": 1000})
    assert bad.status_code == 400
    assert bad.json()["details"][0]["pointer"] == "/size"


async def test_diy_endpoints_need_a_diy_plan(api: httpx.AsyncClient, clock: VirtualClock) -> None:
    refused = await api.get("/api/v1/discord/tokens")
    assert refused.status_code == 403
    assert "--plan-type DIY" in refused.json()["message"]
    await post(api, "/api/v1/midjourney/commands", {"cmd": "relax"}, 403)
    app = create_app(Settings(seed=1, plan_type="DIY"), clock=clock)
    async with client(app) as diy:
        [token] = (await diy.get("/api/v1/discord/tokens")).json()
        assert (token["id"], token["status"], token["isActive"]) == (198, "FAST", True)
        assert (await diy.get("/api/v1/discord/token/198")).json()[0]["info"]["lifetimeUsage"] == "674 images"
        toggled = await diy.put("/api/v1/discord/token/198", json={"isActive": False})
        assert toggled.json()[0]["isActive"] is False
        assert "info" not in toggled.json()[0]
        assert (await diy.get("/api/v1/discord/token/7")).status_code == 404
        assert (await diy.get("/api/v1/discord/token/x")).status_code == 400
        command = (await post(diy, "/api/v1/midjourney/commands", {"cmd": "relax"}))["messageId"]
        clock.advance(10)
        done = (await diy.get(f"/api/v1/message/fetch/{command}")).json()
        assert done["content"] == ["relax mode on"]
