"""Runs the test-only npm libraries under node: the OpenWallet Foundation SD-JWT library
(tests/interop/sdjwt_interop.mjs) and its OpenID4VCI wallet client (tests/interop/oid4vci_wallet.mjs).

:func:`ensure_installed` installs the pinned npm packages (``npm ci`` from package-lock.json into
tests/interop/node_modules) when they are missing or older than the lock file, so ``make test`` on a fresh
machine needs only node and npm on the PATH and the npm registry, nothing in the Makefile. The packages are
never part of the product.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

INTEROP = Path(__file__).resolve().parent
SCRIPT = INTEROP / "sdjwt_interop.mjs"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is needed for the SD-JWT interoperability tests (apt-get install nodejs npm)")
    return path


def ensure_installed() -> None:
    """``npm ci`` in tests/interop unless node_modules matches package-lock.json already."""
    lock, installed = INTEROP / "package-lock.json", INTEROP / "node_modules" / ".package-lock.json"
    with (INTEROP / ".install.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # one installer at a time (parallel test processes)
        if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
            return
        subprocess.run([_tool("npm"), "ci", "--no-audit", "--no-fund", "--prefix", str(INTEROP)], check=True,
                       timeout=600, capture_output=True)


def run(request: dict[str, Any], script: Path = SCRIPT, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Send one request to a library bridge (``script``, with ``env`` added to the environment) and return its
    answer."""
    ensure_installed()
    done = subprocess.run([_tool("node"), str(script)], input=json.dumps(request), capture_output=True, text=True,
                          timeout=120, check=False, cwd=INTEROP, env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise RuntimeError(f"node failed ({done.returncode}): {done.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer
