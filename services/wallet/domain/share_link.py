"""A share link as a value: what the learner and the projection know of a link (never its token).

Pure module: the link's state at a given time, its JSON form for the owner, its ``ShareLink`` event message,
and the id (SHA-256 hex) a token is stored under. The Redis side (create, resolve, count, withdraw) is
:mod:`services.wallet.adapters.share_links`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from microcred.gen.microcred.v1 import events_pb2


class Resolution(Enum):
    """Outcome of resolving a share token."""

    UNKNOWN = 0
    WITHDRAWN = 1
    EXPIRED = 2
    OK = 3
    DELETED = 4  # its account was deleted (only a marker of the link's id is left, for the gone-link retention)


@dataclass(frozen=True, slots=True)
class Share:
    """A share link as its owner sees it (the token itself is shown only once, at creation)."""

    share_id: str
    account_id: str
    credential_ids: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    withdrawn: bool
    access_count: int

    def state(self, now: datetime) -> str:
        """``active``, ``withdrawn`` or ``expired``."""
        if self.withdrawn:
            return "withdrawn"
        return "expired" if self.expires_at <= now else "active"

    def to_json(self, now: datetime) -> dict[str, Any]:
        """JSON-ready form for the owner."""
        return {"share_id": self.share_id, "credential_ids": list(self.credential_ids),
                "created_at": _iso(self.created_at), "expires_at": _iso(self.expires_at),
                "access_count": self.access_count, "state": self.state(now)}

    def to_event(self) -> events_pb2.ShareLink:
        """The ``ShareLink`` message of this link (the token never: it is not known here)."""
        link = events_pb2.ShareLink(share_id=self.share_id, account_id=self.account_id,
                                    credential_ids=list(self.credential_ids))
        link.created_at.FromDatetime(self.created_at)
        link.expires_at.FromDatetime(self.expires_at)
        return link


def share_from_event(link: events_pb2.ShareLink, withdrawn: bool) -> Share:
    """The :class:`Share` a ``ShareLink`` message describes (access count unknown: 0)."""
    return Share(link.share_id, link.account_id, tuple(link.credential_ids), link.created_at.ToDatetime(UTC),
                 link.expires_at.ToDatetime(UTC), withdrawn, 0)


def share_id_of(token: str) -> str:
    """The stored id (SHA-256 hex) of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
