"""Stored values as zstd frames (microcred.storage.frames): smaller or as they were, both read back, and a frame
that would open to more than the reader allows is refused before it is opened."""

from __future__ import annotations

import json

import pytest
import zstandard

from microcred.storage.frames import MAGIC, FrameError, compressor, pack, unpack
from services.wallet.adapters.store import parse_record, record_fields
from services.wallet.domain.credentials import EuElements, HeldCredential
from services.wallet.domain.credentials import Identity as Learner
from tests.harness.factories import LEARNER_DID

DOCUMENT = json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"] * 20,
                       "credentialSubject": {"id": LEARNER_DID, "name": "Ana Example"}}).encode()


def test_a_document_is_stored_smaller_and_read_back_whole() -> None:
    stored = pack(DOCUMENT)
    assert stored.startswith(MAGIC) and len(stored) < len(DOCUMENT) / 2
    assert unpack(stored, 1 << 20) == DOCUMENT


def test_what_a_frame_does_not_shrink_is_stored_as_it_is_and_read_as_it_is() -> None:
    assert pack(b"{}") == b"{}"
    assert unpack(b'{"written": "before frames"}', 10) == b'{"written": "before frames"}'


def test_a_value_that_looks_like_a_frame_is_not_stored_uncompressed() -> None:
    with pytest.raises(ValueError, match="magic"):
        pack(MAGIC + b"xyz")


def test_a_frame_that_would_open_to_more_than_the_limit_is_refused_unopened() -> None:
    bomb = compressor().compress(b"\x00" * (8 << 20))
    assert len(bomb) < 2_000
    with pytest.raises(FrameError, match="more than"):
        unpack(bomb, 1 << 20)
    unsized = zstandard.ZstdCompressor(write_content_size=False).compress(DOCUMENT)
    with pytest.raises(FrameError, match="more than"):
        unpack(unsized, 1 << 20)


def test_a_corrupt_frame_is_refused() -> None:
    stored = bytearray(pack(DOCUMENT))
    stored[-5] ^= 0xFF
    with pytest.raises(FrameError):
        unpack(bytes(stored), 1 << 20)


def test_the_wallet_reads_records_written_before_and_after_compression() -> None:
    credential = HeldCredential("urn:uuid:c-frames", "uni-a", None, EuElements("t"), Learner(),
                                document=json.loads(DOCUMENT), edc_jsonld=DOCUMENT.decode())
    new = {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in record_fields(credential).items()}
    assert new[b"doc"].startswith(MAGIC) and new[b"edc"].startswith(MAGIC)
    # as stored before documents were compressed
    old = {**new, b"doc": unpack(new[b"doc"], 1 << 20), b"edc": unpack(new[b"edc"], 1 << 20)}
    for fields in (new, old):
        shown = parse_record(fields, {})
        assert shown.document == credential.document and shown.edc_jsonld == DOCUMENT.decode()
