"""LinkedIn links for a credential: "Add to profile" (a certification) and "share" (a post with the link).

Pure functions, no network. The "Add to profile" parameters are LinkedIn's documented ones for its Add to Profile
button (addtoprofile.linkedin.com): ``startTask=CERTIFICATION_NAME`` opens the certification form, ``name``,
``organizationName`` (or ``organizationId``, a LinkedIn company id, which we do not know), ``issueYear``,
``issueMonth`` (1-12), ``expirationYear``/``expirationMonth`` when the credential has an end of validity,
``certUrl`` (the public verification link) and ``certId`` (the credential id). The share link is LinkedIn's
share-offsite endpoint, which takes only ``url`` (LinkedIn reads title and image from that page).
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"
SHARE_OFFSITE = "https://www.linkedin.com/sharing/share-offsite/"

__all__ = ["add_to_profile_url", "share_url"]


def _when(value: date | datetime | str | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime | date):
        return value if not isinstance(value, datetime) else value.date()
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def add_to_profile_url(*, name: str, organization_name: str, issued: date | datetime | str | None,
                       cert_url: str, cert_id: str, expires: date | datetime | str | None = None) -> str:
    """The "Add to profile" URL pre-filling a LinkedIn certification with the credential's fields.

    ``issued``/``expires``: a date, a datetime or an ISO 8601 text (unparsable text is left out, never guessed).
    """
    params: list[tuple[str, str]] = [("startTask", "CERTIFICATION_NAME"), ("name", name),
                                     ("organizationName", organization_name)]
    issued_on = _when(issued)
    if issued_on is not None:
        params += [("issueYear", str(issued_on.year)), ("issueMonth", str(issued_on.month))]
    expires_on = _when(expires)
    if expires_on is not None:
        params += [("expirationYear", str(expires_on.year)), ("expirationMonth", str(expires_on.month))]
    params += [("certUrl", cert_url), ("certId", cert_id)]
    return f"{ADD_TO_PROFILE}?{urlencode(params)}"


def share_url(url: str) -> str:
    """LinkedIn's share dialog for ``url`` (the public verification link)."""
    return f"{SHARE_OFFSITE}?{urlencode({'url': url})}"
