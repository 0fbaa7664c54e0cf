"""Redis state of the status lists and the encrypted status-list signing keys."""
