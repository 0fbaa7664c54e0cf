"""The wallet's use cases and the ports they need (imports only the domain, the settings and ``microcred``)."""
