"""The prompt connection packs commands exactly as redis-py does, in C (microcred.storage.prompt_send)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from microcred.storage.prompt_send import PromptConnection

_ARG = (st.binary(max_size=64) | st.text(max_size=64) | st.integers(-2 ** 70, 2 ** 70)
        | st.floats(allow_nan=False) | st.binary(min_size=7000, max_size=7001))  # past redis-py's chunking cutoff


def _redis_py(*args: Any) -> bytes:
    return b"".join(bytes(part) for part in Connection().pack_command(*args))


def _prompt(*args: Any) -> bytes:
    return b"".join(PromptConnection().pack_command(*args))


@settings(max_examples=300)
@given(st.sampled_from(["SET", "HSET", "ZADD", b"EVALSHA"]), st.lists(_ARG, max_size=12))
def test_the_bytes_are_redis_pys_for_any_arguments(name: str | bytes, args: list[Any]) -> None:
    assert _prompt(name, *args) == _redis_py(name, *args)


def test_pipelines_and_multi_word_commands_pack_as_redis_py_packs_them() -> None:
    commands = [("CONFIG GET", "maxmemory"), (b"CLIENT SETNAME", b"n"), ("SET", "k", memoryview(b"ab")),
                ("HSET", "h", "f", "é"), ("EXPIRE", "k", 10), ("ZADD", "z", 1.5e16, "m")]
    assert b"".join(PromptConnection().pack_commands(commands)) == b"".join(
        bytes(p) for p in Connection().pack_commands(commands))


@pytest.mark.parametrize("value", [True, None, object()])
def test_what_redis_py_refuses_is_a_data_error_here_too(value: Any) -> None:
    with pytest.raises(DataError):
        Connection().pack_command("SET", "k", value)
    with pytest.raises(DataError):
        PromptConnection().pack_command("SET", "k", value)


def test_another_text_encoding_is_packed_by_redis_py() -> None:
    latin = PromptConnection(encoding="latin-1")
    assert b"".join(latin.pack_command("SET", "k", "é")) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n\xe9\r\n"
