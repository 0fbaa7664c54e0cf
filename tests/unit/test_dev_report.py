"""``mcred dev run``'s endpoint table: nothing an operator copies from it (endpoints, log paths) is cut short."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from microcred.cli import dev
from microcred.infra.ports import free_port


def test_long_log_paths_and_the_status_list_endpoint_are_shown_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    # only rendered, never bound; still no fixed port in tests
    status_port, grpc_port, kafka_port, redis_port = (free_port() for _ in range(4))
    deep = Path("/srv/microcred/" + "data-" * 20 + "run/logs/revocation.log")
    service = SimpleNamespace(spec=SimpleNamespace(name="revocation"), endpoint=f"127.0.0.1:{grpc_port}",
                              log_path=deep)
    platform = SimpleNamespace(kafka=SimpleNamespace(bootstrap=f"127.0.0.1:{kafka_port}", data_dir=Path("/k")),
                               redis=SimpleNamespace(service_url=f"redis://127.0.0.1:{redis_port}",
                                                     log_path=Path("/r.log")),
                               services=[service], ports={"revocation-http": status_port}, pki_dir=Path("/pki"))
    narrow = Console(width=80, record=True)
    monkeypatch.setattr(dev, "console", narrow)
    dev._report(platform, {"revocation": "ready"})  # type: ignore[arg-type]
    rows = [line.split("│") for line in narrow.export_text().splitlines() if line.startswith("│")]
    logs, endpoints = "".join(r[-2].strip() for r in rows), "".join(r[2].strip() for r in rows)
    assert str(deep) in logs  # folded over several lines, never cut with an ellipsis
    assert f"http://127.0.0.1:{status_port}/status/" in endpoints and "…" not in narrow.export_text()
