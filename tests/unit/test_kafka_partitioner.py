"""Keys land on the partition the Java client and aiokafka's default partitioner choose, whichever producer wrote."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from microcred.kafka.partitioner import KeyPartitioner, murmur2


@given(st.binary(max_size=200))
def test_murmur2_is_the_java_clients(data: bytes) -> None:
    assert murmur2(data) == aiokafka_murmur2(data)


@given(st.binary(min_size=1, max_size=80), st.integers(min_value=1, max_value=64))
def test_keys_go_where_the_default_partitioner_puts_them(key: bytes, count: int) -> None:
    partitions = list(range(count))
    assert KeyPartitioner()(key, partitions, partitions) == DefaultPartitioner()(key, partitions, partitions)


def test_the_java_clients_own_test_vectors() -> None:
    # org.apache.kafka.common.utils.UtilsTest.testMurmur2 (signed 32-bit results there)
    cases = {b"21": -973932308, b"foobar": -790332482, b"a-little-bit-long-string": -985981536,
             b"a-little-bit-longer-string": -1486304829,
             b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971, b"abc": 479470107}
    assert {key: murmur2(key) for key in cases} == {key: value % 2**32 for key, value in cases.items()}


def test_unkeyed_records_go_to_an_available_partition() -> None:
    assert KeyPartitioner()(None, [0, 1, 2], [2]) == 2
    assert KeyPartitioner()(None, [0, 1, 2], []) in {0, 1, 2}
