"""The revocation service's edges: gRPC RevocationService, the status-list HTTP endpoints, Token Status Lists."""
