"""Every service's groups import only downwards (issue 16's skeleton, checked rather than hoped for):

    domain < config < application < adapters < api, events, audit < app, main

Parses every module under ``services/<name>`` (nothing is imported or run) and fails when a module imports a
module of its own service from a higher group, or from another group at the same height (``api`` and
``events`` are both inbound and do not import each other), or a module of another service. A group is a folder
(``application/``) or a single module (``application.py``). The domain and the use cases also import no I/O
library directly.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
NAMES = ("issuer", "revocation", "verifier", "wallet")

#: Height of each group; a module may import its own group and any lower one.
RANKS = {"domain": 0, "config": 1, "application": 2, "adapters": 3, "api": 4, "events": 4, "audit": 4,
         "composition": 5}
#: Modules that are not a group of their own.
COMPOSITION = {"app", "main", "__init__"}
#: Libraries that do I/O (or are a transport): never imported by the domain or the use cases themselves.
IO_LIBRARIES = {"redis", "aiokafka", "fastapi", "starlette", "httpx", "uvicorn", "grpc", "jwt"}


def group_of(parts: tuple[str, ...]) -> str | None:
    """The group of a module given its path parts below ``services/<name>`` (None: belongs to none)."""
    head = parts[0].removesuffix(".py")
    if head in COMPOSITION:
        return "composition"
    return head if head in RANKS and head != "composition" else None


def imported_modules(tree: ast.AST) -> list[tuple[str, int]]:
    """Every absolute module an AST imports (``from a import b`` counts as ``a.b`` too), with its line."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
            found += [(f"{node.module}.{alias.name}", node.lineno) for alias in node.names]
    return found


def violations(service: str, module: str, source: str) -> list[str]:
    """What is wrong with the imports of ``module`` (a path below services/<service>, e.g. ``domain/x.py``)."""
    own = group_of(Path(module).parts)
    if own is None:
        return [f"{service}/{module}: belongs to no group (domain, application, adapters, api, events)"]
    problems = []
    for name, line in imported_modules(ast.parse(source)):
        parts = name.split(".")
        where = f"{service}/{module}:{line}"
        if own in ("domain", "application") and parts[0] in IO_LIBRARIES:
            problems.append(f"{where}: the {own} imports {name}")
        if parts[0] != "services" or len(parts) < 2:
            continue
        if parts[1] != service:
            problems.append(f"{where}: imports another service ({name})")
            continue
        if len(parts) < 3:
            continue
        target = group_of((parts[2], *parts[3:4]))
        if target is None or target == own:
            continue
        if RANKS[target] >= RANKS[own]:
            problems.append(f"{where}: {own} imports {name} ({target}, not below {own})")
    return problems


@pytest.mark.parametrize("service", NAMES)
def test_every_module_imports_only_lower_groups_of_its_own_service(service: str) -> None:
    root = SERVICES / service
    modules = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    assert len(modules) > 8  # the walk found the service (not an empty or moved folder)
    problems = [v for path in modules for v in violations(service, str(path.relative_to(root)), path.read_text())]
    assert problems == []


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("domain/x.py", "from services.wallet.adapters.store import r\n", "domain imports services.wallet.adapters"),
    ("domain.py", "from services.wallet.config import Settings\n", "domain imports services.wallet.config"),
    ("application/x.py", "from services.wallet.adapters import store\n", "application imports"),
    ("application.py", "from services.wallet.events.projector import ProjectionTracker\n", "application imports"),
    ("adapters/x.py", "import services.wallet.api.deps\n", "adapters imports services.wallet.api.deps"),
    ("api/x.py", "from services.wallet.events.intake import WALLET_TOPICS\n", "api imports"),
    ("events/x.py", "from services.wallet.app import create_app\n", "events imports services.wallet.app"),
    ("application/x.py", "from services.wallet import main\n", "application imports services.wallet.main"),
    ("domain/x.py", "from redis.asyncio import Redis\n", "the domain imports redis.asyncio"),
    ("api/x.py", "from services.issuer.application.issuance import Caller\n", "imports another service"),
    ("stray.py", "", "belongs to no group"),
])
def test_the_check_reports_an_upward_or_sideways_import(module: str, source: str, expected: str) -> None:
    found = violations("wallet", module, source)
    assert any(expected in v for v in found), found


@pytest.mark.parametrize(("module", "source"), [
    ("domain/x.py", "from services.wallet.domain.credentials import HeldCredential\n"),
    ("application/x.py", "from services.wallet.domain import errors\nfrom services.wallet.config import Settings\n"),
    ("events/x.py", "from services.wallet.adapters.store import r\nfrom microcred.kafka.topics import WALLET\n"),
    ("api/http.py", "from services.wallet.adapters.store import r\nfrom services.wallet.application import x\n"),
    ("app.py", "from services.wallet.api import learner\nfrom services.wallet.events.intake import build_intake\n"),
])
def test_downward_imports_pass(module: str, source: str) -> None:
    assert violations("wallet", module, source) == []
