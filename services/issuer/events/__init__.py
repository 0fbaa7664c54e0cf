"""What the issuer does on its events: the credential-store projection (Kafka -> Redis)."""
