"""``mcred credential``: sign a credential document offline with a key file.

::

    mcred credential sign --key KEY.json UNSIGNED.json > SIGNED.json

The issuer (``issuer`` or ``issuer.id``) is set to the key's did:key, but only when the caller's is valid: an
invalid issuer (``"fake-issuer"``, null, an object without a URL id) is refused, never replaced. The document
must follow the VC data model (the rule it breaks is named); a VC 1.1 document gets the Data Integrity context
added. Then it gets a Data Integrity ``eddsa-rdfc-2022`` proof (``assertionMethod``). Only the pinned JSON-LD
contexts are used; a document with an unknown context or an undefined term is refused, never signed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from microcred import vcdm
from microcred.cli.keys import load_key_file
from microcred.credential import signing

__all__ = ["app", "sign_document"]

app = typer.Typer(help="Credentials: read your issued ones (get); sign documents offline (sign).", no_args_is_help=True)
err = Console(stderr=True)


def sign_document(document: dict[str, Any], key_path: Path, created: str | None = None) -> dict[str, Any]:
    """``document`` issued by the key's did:key and signed (raises ValueError on unusable input)."""
    key = load_key_file(key_path)
    if "proof" in document:
        raise ValueError("the document is already signed")
    unsigned = dict(document)
    unsigned.setdefault("issuer", key.did)
    # The document as the caller gave it must follow the data model: an invalid issuer is refused, never replaced.
    vcdm.require_valid(unsigned)
    issuer = unsigned["issuer"]
    unsigned["issuer"] = {**issuer, "id": key.did} if isinstance(issuer, dict) else key.did
    return signing.sign_document(unsigned, key.private_key, key.verification_method, created=created)


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
        err.print(f"[red]not signed:[/red] {escape(str(exc))}")  # the rule name is in [brackets]
        raise typer.Exit(2) from None
    json.dump(signed, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
