"""The official Python SDK (PyPI imaginepro 0.1.0), unmodified, runs its whole flow against flux-mock.

imagine -> DONE -> upscale / variant / reroll / press_button -> DONE -> inpainting on the upscale -> DONE,
plus the SDK's plain-dict style (snake_case keys) and Flux through its private _post_request.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from imaginepro import (
    ButtonPressParams,
    ImagineParams,
    ImagineProSDK,
    ImagineProSDKOptions,
    InpaintingParams,
    RerollParams,
    UpscaleParams,
    VariantParams,
)
from PIL import Image

from mock_server import LiveServer, Settings

MASK = "UklGRiQAAABXRUJQVlA4WAoAAAAQAAAAAAAAAAAAQUxQSAIAAAAAAFZQOCAYAAAAMAEAnQEqAQABAAIANCWkAANwAP77/VAA"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    # Instant jobs on the real clock: the SDK polls in real time, so nothing may take long.
    with LiveServer(settings=Settings(job_seconds=0, seed=11)) as live:
        yield live


@pytest.fixture
def sdk(server: LiveServer) -> ImagineProSDK:
    options = ImagineProSDKOptions(api_key="sk-sdk-user", base_url=server.url, default_timeout=10, fetch_interval=0)
    return ImagineProSDK(options)


def done(sdk: ImagineProSDK, created: dict[str, Any]) -> dict[str, Any]:
    assert created["success"] is True, created
    message = sdk.fetch_message(created["messageId"])
    assert message["status"] == "DONE", message
    return message


def picture(url: str) -> Image.Image:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, url
    return Image.open(io.BytesIO(response.content))


def test_the_whole_sdk_flow_runs_unmodified(sdk: ImagineProSDK) -> None:
    # ImagineParams carries negativePrompt, steps, seed, cfgScale and style: all accepted.
    params = ImagineParams(
        prompt="a lighthouse --ar 3:2",
        negative_prompt="blur",
        steps=30,
        seed=7,
        cfg_scale=7.5,
        style="raw",
        width=1024,
        height=683,
        timeout=600,
    )
    grid = done(sdk, sdk.imagine(params))
    assert grid["buttons"][:4] == ["U1", "U2", "U3", "U4"]
    assert picture(grid["uri"]).size == (1024, 680)

    upscaled = done(sdk, sdk.upscale(UpscaleParams(message_id=grid["messageId"], index=2)))
    assert upscaled["originatingMessageId"] == grid["messageId"]
    assert "Vary (Region)" in upscaled["buttons"]
    variant = done(sdk, sdk.variant(VariantParams(message_id=grid["messageId"], index=3)))
    rerolled = done(sdk, sdk.reroll(RerollParams(message_id=grid["messageId"])))
    pressed = done(sdk, sdk.press_button(ButtonPressParams(message_id=upscaled["messageId"], button="Zoom Out 2x")))
    for message in (variant, rerolled, pressed):
        assert message["buttons"][:4] == ["U1", "U2", "U3", "U4"]
        assert picture(message["uri"]).size[0] > 0

    inpainted = done(
        sdk, sdk.inpainting(InpaintingParams(message_id=upscaled["messageId"], mask=MASK, prompt="a red roof"))
    )
    assert (inpainted["prompt"], inpainted["originatingMessageId"]) == ("a red roof", upscaled["messageId"])


def test_the_readme_style_plain_dict_with_snake_case_keys(sdk: ImagineProSDK) -> None:
    grid = done(sdk, sdk.imagine({"prompt": "a fox"}))  # type: ignore[arg-type]
    upscaled = done(sdk, sdk.press_button({"message_id": grid["messageId"], "button": "U1"}))  # type: ignore[arg-type]
    assert upscaled["originatingMessageId"] == grid["messageId"]


def test_flux_through_the_sdks_private_post(sdk: ImagineProSDK) -> None:
    flux = sdk._post_request("/api/v1/flux/imagine", {"prompt": "a fox", "n": 2, "negativePrompt": "blur", "steps": 20})
    message = done(sdk, flux)
    assert len(message["images"]) == 2


def test_a_refused_button_reaches_the_sdk_as_its_error(sdk: ImagineProSDK) -> None:
    grid = done(sdk, sdk.imagine(ImagineParams(prompt="a fox")))
    with pytest.raises(Exception, match="Conflict"):
        sdk.press_button(ButtonPressParams(message_id=grid["messageId"], button="Make Square"))
