"""``ListOffers``: an issuer's own OpenID4VCI offers, newest first, in pages (what it needs to send them itself).

Pure parts here (the entry, its state now, the page cursor, the request's checks) and the paging loop over the
:class:`OfferIndex` port (:class:`~services.issuer.adapters.offer_index.RedisOfferIndex`).

* **Only the caller's offers**: the index is per issuer (its id from the client certificate); nothing in a
  request names another issuer.
* **State** (:func:`state_of`): ``redeemed``, ``withdrawn``/``locked`` as the offer's scripts recorded them; an
  offer never redeemed nor withdrawn is ``open`` until its expiry, ``expired`` after.
* **Cursor**: the page token is the creation time of the last entry read and how many entries with exactly that
  time were read (offers made in one call share it), so new offers arriving between pages never shift a page.
  It holds no offer id (those are bearer secrets).
* **Bounded**: with a state filter a page may need to read past many entries of other states; one call reads at
  most :data:`MAX_SCAN` entries, then answers a shorter page with a token to go on from there.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Protocol

__all__ = ["DEFAULT_PAGE", "MAX_PAGE", "MAX_REFERENCE", "MAX_SCAN", "Cursor", "OfferEntry", "OfferIndex",
           "OfferPage", "PageTokenError", "decode_token", "encode_token", "list_page", "reference_problem",
           "state_of"]

DEFAULT_PAGE = 50
MAX_PAGE = 500
MAX_SCAN = 5000
MAX_REFERENCE = 200
#: The states a listing is filtered by (``locked`` is listed as withdrawn, with its reason).
STATES = ("open", "redeemed", "expired", "withdrawn")


@dataclass(frozen=True)
class OfferEntry:
    """One offer in its issuer's index (``state``: as stored: offered, redeemed, withdrawn or locked; forgotten
    when the entry was trimmed between two reads; ``credential_issuer``: the identifier its links were made with)."""

    offer_id: str
    created_at: float
    expires_at: float
    tx_code_required: bool
    reference: str
    state: str
    credential_issuer: str = ""


class OfferIndex(Protocol):
    """Port: an issuer's offers by creation time."""

    async def trim_offers(self, issuer_id: str, now: float) -> int: ...
    async def offer_window(self, issuer_id: str, max_score: float, offset: int, count: int,
                           min_score: float) -> list[OfferEntry]: ...


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: below ``score``, after ``skip`` entries created exactly at ``score``."""

    score: float = math.inf
    skip: int = 0


@dataclass(frozen=True)
class OfferPage:
    """Entries with their state now (state, withdrawal reason) and the next page token ('' at the end)."""

    entries: list[tuple[OfferEntry, str, str]]
    next_token: str


class PageTokenError(ValueError):
    """The page token is not one this service answered."""


def encode_token(cursor: Cursor) -> str:
    """The opaque page token of a cursor."""
    raw = json.dumps({"s": cursor.score, "n": cursor.skip}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> Cursor:
    """The cursor of a page token ('' is the first page); :class:`PageTokenError` for anything else."""
    if not token:
        return Cursor()
    if len(token) > 200:
        raise PageTokenError("page_token is not a token this service answered")
    try:
        value = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        score, skip = value["s"], value["n"]
    except (ValueError, binascii.Error, TypeError, KeyError) as exc:
        raise PageTokenError("page_token is not a token this service answered") from exc
    if not isinstance(score, int | float) or isinstance(score, bool) or not math.isfinite(score) \
            or not isinstance(skip, int) or isinstance(skip, bool) or not 0 < skip <= 10**7:
        raise PageTokenError("page_token is not a token this service answered")
    return Cursor(float(score), skip)


def state_of(entry: OfferEntry, now: float) -> tuple[str, str]:
    """(state, withdrawal reason) of an entry at ``now``: open, redeemed, expired or withdrawn ('' for an entry
    forgotten while it was read)."""
    if entry.state == "forgotten":
        return "", ""
    if entry.state == "redeemed":
        return "redeemed", ""
    if entry.state in ("withdrawn", "locked"):
        return "withdrawn", entry.state
    return ("open" if now < entry.expires_at else "expired"), ""


def reference_problem(reference: str) -> str | None:
    """Why an issuer's reference cannot be kept (None: it can): at most :data:`MAX_REFERENCE` characters, no
    control characters (it is one field of the index entry and one cell of a CSV)."""
    if len(reference) > MAX_REFERENCE:
        return f"is longer than {MAX_REFERENCE} characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in reference):
        return "holds a control character"
    return None


async def list_page(index: OfferIndex, issuer_id: str, now: float, *, size: int, cursor: Cursor,
                    state: str = "", since: float = -math.inf, batch: int = 200) -> OfferPage:
    """A page of ``issuer_id``'s offers (newest first; only ``state`` if given; created at or after ``since``),
    reading at most :data:`MAX_SCAN` entries of the index."""
    await index.trim_offers(issuer_id, now)
    out: list[tuple[OfferEntry, str, str]] = []
    score, skip, scanned = cursor.score, cursor.skip, 0
    while len(out) < size and scanned < MAX_SCAN:
        wanted = min(batch, MAX_SCAN - scanned)
        window = await index.offer_window(issuer_id, score, skip, wanted, since)
        consumed = 0
        for entry in window:
            consumed += 1
            score, skip = (score, skip + 1) if entry.created_at == score else (entry.created_at, 1)
            now_state, reason = state_of(entry, now)
            if now_state and (not state or now_state == state):
                out.append((entry, now_state, reason))
                if len(out) == size:
                    break
        scanned += consumed
        if len(window) < wanted and consumed == len(window):
            return OfferPage(out, "")  # read to the end of the index
    return OfferPage(out, encode_token(Cursor(score, skip)))
