"""flux-mock contract kit: check servers and clients against openapi.yaml."""

from __future__ import annotations

__all__: list[str] = []
