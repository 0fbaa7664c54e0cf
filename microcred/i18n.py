"""Language negotiation shared by the human pages (wallet, verifier)."""

from __future__ import annotations


def accepted_languages(header: str | None) -> list[str]:
    """Lower-cased language tags of an ``Accept-Language`` header, best first; ``q=0`` tags are dropped."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag.strip():
            ranked.append((-quality, position, tag.strip().lower()))
    return [tag for negative_quality, _, tag in sorted(ranked) if negative_quality < 0]
