"""SD-JWT VC (``dc+sd-jwt``) for EU micro-credentials: issuing and verifying, as pure functions.

Modules: :mod:`.jose` (JWS over PyJWT, strict JSON), :mod:`.x5c` (X.509 issuer chains over ``cryptography``),
:mod:`.core` (RFC 9901 disclosures, decoys, KB-JWT), :mod:`.claims` (the protobuf ``MicroCredential`` as
claims, and back), :mod:`.type_metadata` (our ``vct``, its Type Metadata and integrity), :mod:`.issue`,
:mod:`.verify` (per-check results, :mod:`.result`), :mod:`.issuer_metadata` (JWT VC Issuer Metadata).

Library choice (issue 19). JOSE: PyJWT (already a dependency, maintained, typed; ES256/ES384/ES512/EdDSA,
JWK parsing). X.509 path validation: ``cryptography.x509.verification``. SD-JWT itself is implemented here,
because the one Python SD-JWT library (the OpenWallet Foundation reference implementation, PyPI ``sd-jwt``
0.10.4, February 2024) predates RFC 9901 and skips checks the RFC requires (see :mod:`.core`). The
OpenWallet Foundation's TypeScript library (``@sd-jwt/sd-jwt-vc``) cross-checks this code in tests/interop/
and is never part of the product. See docs/sd-jwt-vc.md.
"""
