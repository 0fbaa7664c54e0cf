"""Test scaffolding shared by the tests and ``bench/``: never part of the product.

``issuer`` and ``revocation`` start those services in-process with a throwaway PKI, ``wallet`` the wallet
with its test issuer and OIDC provider; ``factories`` builds protobuf test data; ``waiting`` has the one
``eventually()`` and ``kafka`` the one topic reader; ``redis_cluster`` a local 3-master Redis Cluster and
``rate_limit`` the in-memory twin of the gateway's shared token buckets. Nothing under ``services/`` or
``microcred/`` imports this package, and the container image never copies ``tests/`` (see ``.dockerignore`` and
the ``Dockerfile``).
"""
