"""OpenID for Verifiable Credential Issuance 1.0 (Credential Issuer side), pure: metadata, offers, key proofs,
errors. No I/O; the issuer service's HTTP routes (``services/issuer/api/oid4vci.py``) use it."""
