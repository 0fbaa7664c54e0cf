"""The issuer service's edges: gRPC IssuerService and RegistryService, the VC-API REST endpoint (HTTPS, OAuth 2.0)."""
