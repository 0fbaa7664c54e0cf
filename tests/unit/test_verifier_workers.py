"""The gateway's workers each listen on a socket of their own (``SO_REUSEPORT``), so the kernel spreads
connections over them (services.verifier.adapters.workers)."""

from __future__ import annotations

import pickle
import socket

import pytest
from uvicorn.config import STARTUP_FAILURE

from services.verifier.adapters.workers import ReusePortListener, reuse_port_possible


def test_each_worker_unpickles_its_own_listener_on_the_shared_port() -> None:
    first = pickle.loads(pickle.dumps(ReusePortListener("127.0.0.1", 0)))  # as a worker process receives it
    try:
        port = first.getsockname()[1]
        second = pickle.loads(pickle.dumps(ReusePortListener("127.0.0.1", port)))
        try:
            assert second.getsockname() == ("127.0.0.1", port)
            assert second.fileno() != first.fileno()
            assert second.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
            first.listen()
            second.listen()
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass  # the group accepts connections
        finally:
            second.close()
    finally:
        first.close()


def test_an_ephemeral_port_keeps_one_shared_socket() -> None:
    assert not reuse_port_possible(0)  # every worker would get another port
    assert reuse_port_possible(8080)


def test_a_worker_that_cannot_listen_stops_with_startup_failure() -> None:
    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 0))  # no SO_REUSEPORT: outside any group
        taken.listen()
        with pytest.raises(SystemExit) as stopped:
            pickle.loads(pickle.dumps(ReusePortListener("127.0.0.1", taken.getsockname()[1])))
        assert stopped.value.code == STARTUP_FAILURE  # the supervisor stops instead of restarting it forever
    finally:
        taken.close()
