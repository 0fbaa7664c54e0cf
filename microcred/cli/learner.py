"""``mcred learner erase`` and ``mcred learner export``: a learner's right to erasure and of access
(PrivacyService on the issuer service, over mutual TLS; docs/privacy.md).

::

    mcred learner erase --email ana@example.org --reason "GDPR Art. 17 request 2026-118" \\
        --server issuer.example:50051 --tls-dir ie-qqi/ [--json]
    mcred learner export --did did:key:z6Mk... --server issuer.example:50051 --tls-dir ie-qqi/ [--out ana.json]

Erasure destroys the learner's data key: their personal data in every event and read model can no longer be
read, replays included. Their credentials stay revocable and counted in the audit under a pseudonym, and the
credentials already delivered to the learner stay theirs. Exit codes: 0 done, 1 refused (bad input, not
allowed), 2 failed (service unreachable, ...).
"""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import typer

from microcred.cli.grpc_client import CERT_NAME, JSON, TLS_DIR, connect, emit, run_call, to_dict
from microcred.gen.microcred.v1 import privacy_pb2, privacy_pb2_grpc

app = typer.Typer(help="A learner's personal data: erase it (right to erasure) or export it (right of access).",
                  no_args_is_help=True)

SERVER = typer.Option("127.0.0.1:50051", "--server", envvar="MICROCRED_ISSUER_TARGET",
                      help="host:port of the issuer service's gRPC endpoint")
DID = typer.Option("", "--did", help="the learner's DID, as their credentials name it")
EMAIL = typer.Option("", "--email", help="the learner's e-mail address, as their credentials name it")


@app.command("erase")
def erase(did: str = DID, email: str = EMAIL,
          reason: str = typer.Option(..., "--reason", help="why (recorded; no personal data)"),
          server: str = SERVER, tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME,
          as_json: bool = JSON) -> None:
    """Erase a learner: destroy their data key and tell every read model to drop their data."""
    tls = connect(tls_dir, cert_name)
    request = privacy_pb2.DeleteLearnerDataRequest(learner=privacy_pb2.LearnerRef(did=did, email=email),
                                                   reason=reason)

    async def call(channel: grpc.aio.Channel) -> privacy_pb2.DeleteLearnerDataResponse:
        answer: privacy_pb2.DeleteLearnerDataResponse = await privacy_pb2_grpc.PrivacyServiceStub(
            channel).DeleteLearnerData(request, timeout=600)
        return answer

    response = run_call(server, tls, call)
    text = (f"erased {', '.join(response.learner_pseudonyms)}: {len(response.credential_ids)} credential(s) "
            f"no longer readable on the platform"
            + ("" if response.key_destroyed else " (no data key was left: erased before)"))
    emit(to_dict(response), as_json, text)


@app.command("export")
def export(did: str = DID, email: str = EMAIL,
           out: Path | None = typer.Option(None, "--out", help="write the JSON here instead of stdout"),
           server: str = SERVER, tls_dir: Path = TLS_DIR, cert_name: str | None = CERT_NAME) -> None:
    """Everything the platform holds about one learner, as JSON."""
    tls = connect(tls_dir, cert_name)
    request = privacy_pb2.GetLearnerDataRequest(learner=privacy_pb2.LearnerRef(did=did, email=email))

    async def call(channel: grpc.aio.Channel) -> privacy_pb2.GetLearnerDataResponse:
        answer: privacy_pb2.GetLearnerDataResponse = await privacy_pb2_grpc.PrivacyServiceStub(
            channel).GetLearnerData(request, timeout=600)
        return answer

    response = run_call(server, tls, call)
    document = json.dumps(json.loads(response.export_json), indent=2, ensure_ascii=False)
    if out is None:
        print(document)
    else:
        out.write_text(document + "\n", encoding="utf-8")
