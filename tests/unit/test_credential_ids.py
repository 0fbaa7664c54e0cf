"""Credential and event ids are RFC 4122 version-5 UUIDs and never change for the same inputs."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from microcred.credential.ids import (
    CREDENTIAL_NAMESPACE,
    EVENT_NAMESPACE,
    credential_id_for,
    issued_event_id,
    uuid5_text,
)


@given(st.uuids(), st.text())
def test_uuid5_text_is_the_standard_library_uuid5(namespace: uuid.UUID, name: str) -> None:
    assert uuid5_text(namespace, name) == str(uuid.uuid5(namespace, name))


@given(st.text(min_size=1), st.text(min_size=1))
def test_ids_are_uuid5_in_their_namespaces(issuer_id: str, key: str) -> None:
    credential_id = credential_id_for(issuer_id, key)
    assert credential_id == f"urn:uuid:{uuid.uuid5(CREDENTIAL_NAMESPACE, issuer_id + chr(0x1F) + key)}"
    assert issued_event_id(credential_id) == str(uuid.uuid5(EVENT_NAMESPACE, credential_id))


def test_ids_already_issued_stay_the_same() -> None:
    # Retries must find the credential issued before: these values are on Kafka and in wallets.
    assert credential_id_for("uni-a", "row-1") == "urn:uuid:72738fa4-cb45-549a-b15c-42c7aed49b5d"
    assert issued_event_id("urn:uuid:x") == "331c262d-b632-5b0b-95f9-b6750ec526e6"
