"""OpenID4VP 1.0 verifier protocol (pure): DCQL queries (:mod:`.dcql`), request objects and client identifiers
(:mod:`.request`), and reading/checking wallet responses (:mod:`.response`). See docs/oid4vp.md."""
