"""Ports and restarts of the local platform: free ports stay out of the kernel's ephemeral range, ``make run``'s
ports fail fast when taken, and a Kafka data directory keeps its cluster id."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from microcred.infra import ports as ports_module
from microcred.infra.kafka_local import LocalKafka
from microcred.infra.platform import DEFAULT_PORTS, PortInUseError, check_ports_free, dev_ports
from microcred.infra.ports import free_port, port_bindable


def test_free_ports_lie_below_the_ephemeral_range_and_are_bindable() -> None:
    low, _ = ports_module._ephemeral_range()
    chosen = {free_port() for _ in range(50)}
    assert all(ports_module._LOWEST <= port < low for port in chosen)
    assert len(chosen) > 40, "choices should spread, not repeat"
    assert all(port_bindable(port) for port in chosen)


def test_a_bound_port_is_not_bindable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert not port_bindable(sock.getsockname()[1])


def test_dev_ports_are_the_documented_defaults_unless_a_setting_changes_one() -> None:
    assert dev_ports({}) == {"issuer": 50051, "revocation": 50052, "wallet": 8081, "verifier": 8080,
                             "revocation-http": 8082, "issuer-rest": 8443}
    assert dev_ports({"MICROCRED_DEV_VERIFIER_PORT": "9090"})["verifier"] == 9090
    with pytest.raises(PortInUseError, match="MICROCRED_DEV_WALLET_PORT"):
        dev_ports({"MICROCRED_DEV_WALLET_PORT": "eighty"})
    assert set(dev_ports({})) == set(DEFAULT_PORTS)


def test_a_taken_port_is_named_with_the_setting_that_changes_it() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        with pytest.raises(PortInUseError) as caught:
            check_ports_free({"issuer": free_port(), "verifier": taken})
    message = str(caught.value)
    assert f"port {taken} (verifier) is already in use" in message
    assert "MICROCRED_DEV_VERIFIER_PORT" in message and "--verifier-port" in message


def test_kafka_keeps_the_cluster_id_of_its_data_directory(tmp_path: Path) -> None:
    saved = LocalKafka(tmp_path)
    saved.cluster_file.write_text(json.dumps({"cluster_id": "AAAAAAAAAAAAAAAAAAAAAA",
                                              "nodes": [{"node_id": 1, "port": 21000, "controller_port": 21001}]}))
    assert saved._adopt_existing() == {1: (21000, 21001)}
    assert saved.cluster_id == "AAAAAAAAAAAAAAAAAAAAAA"


def test_a_data_directory_from_before_cluster_json_keeps_its_formatted_id(tmp_path: Path) -> None:
    meta = tmp_path / "k1" / "data" / "meta.properties"
    meta.parent.mkdir(parents=True)
    meta.write_text("#\nnode.id=1\nversion=1\ncluster.id=p8ZaWZDWQ9q0DqJ8n1mVwA\n")
    kafka = LocalKafka(tmp_path)
    assert kafka.cluster_id != "p8ZaWZDWQ9q0DqJ8n1mVwA"
    kafka._adopt_existing()
    assert kafka.cluster_id == "p8ZaWZDWQ9q0DqJ8n1mVwA"


def test_the_status_port_message_names_the_option_that_exists() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(PortInUseError) as caught:
            check_ports_free({"revocation-http": sock.getsockname()[1]})
    assert "MICROCRED_DEV_STATUS_PORT" in str(caught.value) and "--status-port" in str(caught.value)
