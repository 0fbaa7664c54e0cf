"""Test scaffolding shared by the tests, ``bench/`` and ``conformance/``: never part of the product.

``issuer`` and ``revocation`` start those services in-process with a throwaway PKI; ``factories`` builds
protobuf test data. Nothing under ``services/`` or ``microcred/`` imports this package, and the container
image never copies ``tests/`` (see ``.dockerignore`` and the ``Dockerfile``).
"""
