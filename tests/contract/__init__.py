"""Contract suites: the behaviour every adapter of a port must show, written once per port.

Each module here holds one port's contract as a class without the ``Test`` prefix (so pytest never runs it on
its own) whose tests use a harness fixture. ``tests/unit/test_contract_<port>.py`` subclasses it with the
in-memory twin, ``tests/integration/test_contract_<port>.py`` with the real adapter on real Kafka or Redis.
"""
