"""Redis credential store, the pool of status-list indexes from the revocation service, the signing processes."""
