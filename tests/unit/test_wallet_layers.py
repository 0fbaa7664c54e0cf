"""The wallet's groups import only downwards: domain < config < application < adapters < api, events < app, main.

Parses every module under ``services/wallet`` (nothing is imported or run) and fails when a module imports a
wallet module of a higher group, or of another group at the same height (``api`` and ``events`` are both
inbound and do not import each other). The domain and the use cases also import no I/O library directly.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WALLET = Path(__file__).resolve().parents[2] / "services" / "wallet"

#: Height of each group; a module may import its own group and any lower one.
RANKS = {"domain": 0, "config": 1, "application": 2, "adapters": 3, "api": 4, "events": 4, "composition": 5}
#: Top-level modules that are not a group folder.
TOP_LEVEL = {"config": "config", "app": "composition", "main": "composition", "__init__": "composition"}
#: Libraries that do I/O (or are a transport): never imported by the domain or the use cases themselves.
IO_LIBRARIES = {"redis", "aiokafka", "fastapi", "starlette", "httpx", "uvicorn", "grpc", "jwt"}


def group_of(parts: tuple[str, ...]) -> str | None:
    """The group of a wallet module given its path parts below ``services/wallet`` (None: belongs to none)."""
    head = parts[0]
    if head in RANKS and head != "composition" and len(parts) > 1:
        return head
    return TOP_LEVEL.get(head.removesuffix(".py"))


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


def violations(module: str, source: str) -> list[str]:
    """What is wrong with the imports of ``module`` (a path below services/wallet, e.g. ``domain/x.py``)."""
    own = group_of(Path(module).parts)
    if own is None:
        return [f"{module}: belongs to no group (put it in domain/, application/, adapters/, api/ or events/)"]
    problems = []
    for name, line in imported_modules(ast.parse(source)):
        parts = name.split(".")
        if own in ("domain", "application") and parts[0] in IO_LIBRARIES:
            problems.append(f"{module}:{line}: the {own} imports {name}")
        if parts[:2] != ["services", "wallet"] or len(parts) < 3:
            continue
        target = group_of((parts[2], *parts[3:4]) if len(parts) > 3 else (parts[2] + ".py",))
        if target is None or target == own:
            continue
        if RANKS[target] >= RANKS[own]:
            problems.append(f"{module}:{line}: {own} imports {name} ({target}, not below {own})")
    return problems


def wallet_modules() -> list[Path]:
    return sorted(p for p in WALLET.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_wallet_module_imports_only_lower_groups() -> None:
    modules = wallet_modules()
    assert len(modules) > 30  # the walk found the service (not an empty or moved folder)
    problems = [v for path in modules for v in violations(str(path.relative_to(WALLET)), path.read_text())]
    assert problems == []


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("domain/x.py", "from services.wallet.adapters.store import r\n", "domain imports services.wallet.adapters"),
    ("domain/x.py", "from services.wallet.config import Settings\n", "domain imports services.wallet.config"),
    ("application/x.py", "from services.wallet.adapters import store\n", "application imports"),
    ("adapters/x.py", "import services.wallet.api.deps\n", "adapters imports services.wallet.api.deps"),
    ("api/x.py", "from services.wallet.events.intake import WALLET_TOPICS\n", "api imports"),
    ("events/x.py", "from services.wallet.app import create_app\n", "events imports services.wallet.app"),
    ("application/x.py", "from services.wallet import main\n", "application imports services.wallet.main"),
    ("domain/x.py", "from redis.asyncio import Redis\n", "the domain imports redis.asyncio"),
    ("stray.py", "", "belongs to no group"),
])
def test_the_check_reports_an_upward_import(module: str, source: str, expected: str) -> None:
    found = violations(module, source)
    assert any(expected in v for v in found), found


@pytest.mark.parametrize(("module", "source"), [
    ("domain/x.py", "from services.wallet.domain.credentials import HeldCredential\n"),
    ("application/x.py", "from services.wallet.domain import errors\nfrom services.wallet.config import Settings\n"),
    ("events/x.py", "from services.wallet.adapters.store import r\nfrom microcred.kafka.topics import WALLET\n"),
    ("app.py", "from services.wallet.api import learner\nfrom services.wallet.events.intake import build_intake\n"),
])
def test_downward_imports_pass(module: str, source: str) -> None:
    assert violations(module, source) == []
