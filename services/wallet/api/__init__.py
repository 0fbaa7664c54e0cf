"""Inbound over HTTP: the learner API, the public share-link resolver, the learner page; errors become
problem+json here only."""
