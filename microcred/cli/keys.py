"""``mcred keys``: Ed25519 signing keys for offline use (``did:key``).

::

    mcred keys generate --out KEY.json      # prints the did:key

The key file is a Multikey verification method with its secret (``secretKeyMultibase``, ``z3u2…``), written with
mode 0600 and never overwritten. Keep it like a password; platform issuers' keys live in the service's key store.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console

from microcred.crypto.did_key_signer import DidKeySigner
from microcred.crypto.multikey import (
    MultikeyError,
    decode_ed25519_secret_key,
    encode_ed25519_public_key,
    encode_ed25519_secret_key,
)

__all__ = ["KeyFile", "app", "generate_key_file", "load_key_file"]

app = typer.Typer(help="Ed25519 keys for signing credentials offline (did:key).", no_args_is_help=True)
console = Console()


#: A loaded key file: the did:key, its verification method and the private key (never in its repr).
KeyFile = DidKeySigner


def generate_key_file(out: Path) -> KeyFile:
    """Generate a key and write it to ``out`` (mode 0600; refuses to overwrite)."""
    signer = DidKeySigner.of(Ed25519PrivateKey.generate())
    key = signer.private_key
    document = {
        "id": signer.verification_method, "type": "Multikey", "controller": signer.did,
        "publicKeyMultibase": encode_ed25519_public_key(key.public_key()),
        "secretKeyMultibase": encode_ed25519_secret_key(key),
    }
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh, indent=2)
        fh.write("\n")
    return signer


def load_key_file(path: Path) -> KeyFile:
    """Read a key file written by :func:`generate_key_file`; the public key must match the secret."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        key = decode_ed25519_secret_key(document["secretKeyMultibase"])
    except (OSError, ValueError, KeyError, TypeError, MultikeyError) as exc:
        raise ValueError(f"{path} is not a key file: {type(exc).__name__}") from None
    if document.get("publicKeyMultibase") not in (None, encode_ed25519_public_key(key.public_key())):
        raise ValueError(f"{path}: publicKeyMultibase does not belong to the secret key")
    return DidKeySigner.of(key)


@app.command("generate")
def generate(out: Path = typer.Option(..., "--out", help="where to write the key file (must not exist)")) -> None:
    """Generate an Ed25519 key, write it to --out and print its did:key."""
    try:
        key = generate_key_file(out)
    except FileExistsError:
        console.print(f"[red]{out} exists; keys are never overwritten[/red]")
        raise typer.Exit(1) from None
    print(key.did)
