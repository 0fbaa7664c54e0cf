"""The wallet's outbound adapters: the Redis read model, the wallet topic on Kafka, the key store, OIDC keys over
HTTP, the import verifier; each implements a port of :mod:`services.wallet.application.ports`."""
