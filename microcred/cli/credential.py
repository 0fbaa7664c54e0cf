"""``mcred credential``: sign a credential document offline with a key file.

::

    mcred credential sign --key KEY.json UNSIGNED.json > SIGNED.json

The issuer (``issuer`` or ``issuer.id``) is set to the key's did:key, then the document gets a Data Integrity
``eddsa-rdfc-2022`` proof (``assertionMethod``). Only the pinned JSON-LD contexts are used; a document with an
unknown context or an undefined term is refused, never signed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from microcred.cli.keys import load_key_file
from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.jsonld.loader import CanonicalizationError, RemoteContextRefused

__all__ = ["app", "sign_document"]

app = typer.Typer(help="Sign credential documents offline.", no_args_is_help=True)
err = Console(stderr=True)


def sign_document(document: dict[str, Any], key_path: Path, created: str | None = None) -> dict[str, Any]:
    """``document`` issued by the key's did:key and signed (raises ValueError on unusable input)."""
    key = load_key_file(key_path)
    if "proof" in document:
        raise ValueError("the document is already signed")
    unsigned = dict(document)
    issuer = unsigned.get("issuer")
    unsigned["issuer"] = {**issuer, "id": key.did} if isinstance(issuer, dict) else key.did
    try:
        return sign_eddsa_rdfc_2022(unsigned, key.private_key, key.verification_method, created=created)
    except (RemoteContextRefused, CanonicalizationError) as exc:
        raise ValueError(str(exc)) from None


@app.command("sign")
def sign(document: Path = typer.Argument(..., help="the unsigned credential (JSON)"),
         key: Path = typer.Option(..., "--key", help="key file from `mcred keys generate`"),
         created: str | None = typer.Option(None, help="proof creation time (default: now)")) -> None:
    """Sign DOCUMENT with --key (setting its issuer to the key's did:key) and print it."""
    try:
        unsigned = json.loads(document.read_text(encoding="utf-8"))
        if not isinstance(unsigned, dict):
            raise ValueError("a credential is a JSON object")
        signed = sign_document(unsigned, key, created)
    except (OSError, ValueError) as exc:
        err.print(f"[red]not signed:[/red] {exc}")
        raise typer.Exit(2) from None
    json.dump(signed, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
