"""What a DONE message shows, by job kind (``x-mock-kind: create:<kind>``), and the checks that hold it to that.

The spec's Message schema lists every result key (``uri``/``images``, ``buttons``, ``content``, ``videoUrl``/
``results``, ``originatingMessageId``) and says which jobs carry them; `SHAPES` is that, per kind:

- image kinds (Flux, upscale, face swap, remove-bg, universal, Gemini, Lumi Girl) show ``images`` and ``uri ==
  images[0]`` (Flux imagine: exactly n images);
- a Midjourney grid (imagine, blend) also lists its ``buttons``: U1-U4 and V1-V4 at least;
- a button's result lists the buttons of the next stage and names the pressed message in
  ``originatingMessageId``;
- describe and bot commands are text: ``content`` (describe: the prompts) and no ``uri``/``images``;
- video jobs show ``results`` (index 0, 1, ... in order) and ``videoUrl == results[0].url``, no ``uri``;
  an extend also names the video it extends in ``originatingMessageId``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from contracts.checks.base import Message, fail
from contracts.core.failures import ContractFailure

Result = Literal["images", "text", "video"]
GRID_BUTTONS = ("U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4")


@dataclass(frozen=True, slots=True)
class DoneShape:
    """What a DONE message of one job kind shows.

    Attributes:
        kind: the job kind.
        result: ``images`` (uri and images), ``text`` (content, no files) or ``video`` (videoUrl and results).
        buttons: None when the kind offers no buttons; else the buttons a DONE message must list at least
            (empty: any non-empty list).
        follow_up: the job acts on an earlier message, which ``originatingMessageId`` names.
    """

    kind: str
    result: Result = "images"
    buttons: tuple[str, ...] | None = None
    follow_up: bool = False


SHAPES: dict[str, DoneShape] = {
    shape.kind: shape
    for shape in (
        DoneShape("imagine"),
        DoneShape("upscale"),
        DoneShape("mj-imagine", buttons=GRID_BUTTONS),
        DoneShape("blend", buttons=GRID_BUTTONS),
        DoneShape("button", buttons=(), follow_up=True),
        DoneShape("describe", "text"),
        DoneShape("faceswap"),
        DoneShape("command", "text"),
        DoneShape("remove-bg"),
        DoneShape("universal"),
        DoneShape("gemini"),
        DoneShape("zimage"),
        DoneShape("video", "video"),
        DoneShape("video-extend", "video", follow_up=True),
    )
}
FLUX = SHAPES["imagine"]


def done_shape(kind: str | None) -> DoneShape:
    """The shape of `kind`'s DONE message; Flux imagine's for None; ValueError naming the known kinds otherwise."""
    if kind is None:
        return FLUX
    try:
        return SHAPES[kind]
    except KeyError:
        known = ", ".join(sorted(SHAPES))
        raise ValueError(
            f"no DONE shape for job kind {kind!r} (x-mock-kind create:{kind}); add one to contracts.checks.kinds."
            f"SHAPES (known: {known})"
        ) from None


def infer_shape(message: Message) -> DoneShape:
    """The shape a message of unknown kind claims by its keys (fuzzed fetches): video, text or images."""
    if "results" in message or "videoUrl" in message:
        return SHAPES["video"]
    if "content" in message:
        return SHAPES["describe"]
    if message.get("originatingMessageId") is not None and "buttons" in message:
        return SHAPES["button"]
    return FLUX


def _no_files(message: Message, check: str, what: str) -> list[ContractFailure]:
    found = []
    for key in ("uri", "images"):
        if key in message:
            found.append(
                fail(
                    check,
                    f"a DONE {what} message has {key}; {what} results carry no image files",
                    message,
                    pointer=f"/{key}",
                    expected="absent",
                    actual=message[key],
                )
            )
    return found


def done_has_images(message: Message, n: int | None = None) -> list[ContractFailure]:
    """A DONE message has ``len(images) == n`` (when n is known) and ``uri == images[0]``."""
    if message.get("status") != "DONE":
        return []
    images, uri = message.get("images"), message.get("uri")
    if not isinstance(images, list) or not images:
        return [
            fail(
                "done_has_images",
                "status is DONE but images is missing or empty; send every image URL",
                message,
                pointer="/images",
                expected=f"{n or 'at least 1'} URL(s)",
                actual=images,
            )
        ]
    found = []
    if n is not None and len(images) != n:
        found.append(
            fail(
                "done_has_images",
                f"the job asked for n={n} images but DONE lists {len(images)}",
                message,
                pointer="/images",
                expected=n,
                actual=len(images),
            )
        )
    if uri != images[0]:
        found.append(
            fail(
                "done_has_images",
                "uri must be the first image (uri == images[0])",
                message,
                pointer="/uri",
                expected=images[0],
                actual=uri,
            )
        )
    return found


def done_has_buttons(message: Message, required: tuple[str, ...] = ()) -> list[ContractFailure]:
    """A DONE Midjourney message lists the buttons that may be pressed next, `required` among them."""
    if message.get("status") != "DONE":
        return []
    buttons = message.get("buttons")
    if not isinstance(buttons, list) or not buttons or not all(isinstance(b, str) and b for b in buttons):
        return [
            fail(
                "done_has_buttons",
                "status is DONE but buttons is missing or empty; list the buttons the message offers "
                "(exactly as /button takes them)",
                message,
                pointer="/buttons",
                expected=list(required) or "a non-empty list of button names",
                actual=buttons,
            )
        ]
    missing = [b for b in required if b not in buttons]
    if not missing:
        return []
    return [
        fail(
            "done_has_buttons",
            f"a DONE grid must offer {', '.join(required)}; {', '.join(missing)} missing",
            message,
            pointer="/buttons",
            expected=list(required),
            actual=buttons,
        )
    ]


def done_has_content(message: Message) -> list[ContractFailure]:
    """A DONE text message (describe, a command) carries its result in ``content`` and no uri or images."""
    if message.get("status") != "DONE":
        return []
    content = message.get("content")
    found = _no_files(message, "done_has_content", "text")
    if not isinstance(content, list) or not content or not all(isinstance(c, str) and c.strip() for c in content):
        found.insert(
            0,
            fail(
                "done_has_content",
                "status is DONE but content is missing or empty; a text job (describe, command) sends its "
                "result as a list of strings in content",
                message,
                pointer="/content",
                expected="a non-empty list of non-empty strings",
                actual=content,
            ),
        )
    return found


def done_has_video(message: Message) -> list[ContractFailure]:
    """A DONE video message lists ``results`` (index 0, 1, ... in order), ``videoUrl == results[0].url``, no uri."""
    if message.get("status") != "DONE":
        return []
    results = message.get("results")
    found = _no_files(message, "done_has_video", "video")
    if not isinstance(results, list) or not results or not all(isinstance(r, Mapping) for r in results):
        found.insert(
            0,
            fail(
                "done_has_video",
                "status is DONE but results is missing or empty; send every video as {url, index}",
                message,
                pointer="/results",
                expected="a non-empty list of {url, index}",
                actual=results,
            ),
        )
        return found
    indexes = [r.get("index") for r in results]
    if indexes != list(range(len(results))):
        found.append(
            fail(
                "done_has_video",
                "results must be indexed 0, 1, ... in order (the index /video/mj/extend takes)",
                message,
                pointer="/results",
                expected=list(range(len(results))),
                actual=indexes,
            )
        )
    first = results[0].get("url")
    if message.get("videoUrl") != first:
        found.append(
            fail(
                "done_has_video",
                "videoUrl must be the first result (videoUrl == results[0].url)",
                message,
                pointer="/videoUrl",
                expected=first,
                actual=message.get("videoUrl"),
            )
        )
    return found


def follow_up_names_origin(message: Message, origin: str | None = None) -> list[ContractFailure]:
    """A follow-up job (a button press, a video extend) names the message it acted on in originatingMessageId."""
    actual = message.get("originatingMessageId")
    if (origin is None and isinstance(actual, str) and actual) or (origin is not None and actual == origin):
        return []
    return [
        fail(
            "follow_up_names_origin",
            "a job made by a button or an extend must name the message it acted on in originatingMessageId",
            message,
            pointer="/originatingMessageId",
            expected=origin or "the messageId of the pressed message",
            actual=actual,
        )
    ]


def check_result(
    message: Message, shape: DoneShape, *, n: int | None = None, origin: str | None = None
) -> list[ContractFailure]:
    """The checks of `shape` on one message: its DONE result, its buttons, and the origin of a follow-up."""
    found: list[ContractFailure] = []
    if shape.result == "images":
        found += done_has_images(message, n)
    elif shape.result == "text":
        found += done_has_content(message)
    else:
        found += done_has_video(message)
    if shape.buttons is not None:
        found += done_has_buttons(message, shape.buttons)
    if shape.follow_up:
        found += follow_up_names_origin(message, origin)
    return found


def any_kind(message: Mapping[str, Any]) -> list[ContractFailure]:
    """`check_result` for a message whose kind is not known: the shape its keys claim (`infer_shape`)."""
    return check_result(message, infer_shape(message))
