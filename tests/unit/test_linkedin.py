"""LinkedIn "Add to profile" and share URLs carry LinkedIn's documented parameters, correctly encoded."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

from microcred.sharing.linkedin import add_to_profile_url, share_url


def test_add_to_profile_documented_parameters() -> None:
    url = add_to_profile_url(name="Analiza danych & statystyka", organization_name="Uniwersytet Łódzki",
                             issued="2026-03-14T10:00:00Z", cert_url="https://verify.example/s/abc?x=1",
                             cert_id="urn:uuid:1234")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    assert parse_qs(parts.query) == {
        "startTask": ["CERTIFICATION_NAME"], "name": ["Analiza danych & statystyka"],
        "organizationName": ["Uniwersytet Łódzki"], "issueYear": ["2026"], "issueMonth": ["3"],
        "certUrl": ["https://verify.example/s/abc?x=1"], "certId": ["urn:uuid:1234"]}


def test_expiry_and_unparsable_dates() -> None:
    query = parse_qs(urlsplit(add_to_profile_url(name="n", organization_name="o", issued="not a date", cert_url="u",
                                                 cert_id="i", expires=date(2030, 12, 1))).query)
    assert "issueYear" not in query and "issueMonth" not in query
    assert (query["expirationYear"], query["expirationMonth"]) == (["2030"], ["12"])


def test_share_url() -> None:
    url = share_url("https://verify.example/s/abc?x=1&y=2")
    parts = urlsplit(url)
    assert f"{parts.netloc}{parts.path}" == "www.linkedin.com/sharing/share-offsite/"
    assert parse_qs(parts.query) == {"url": ["https://verify.example/s/abc?x=1&y=2"]}
