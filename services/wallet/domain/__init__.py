"""The wallet's domain: pure rules and value types (no Redis, Kafka, HTTP; imports nothing else of the wallet)."""
