"""Inbound from Kafka: the projection of consumed events into the read model and the completion policy."""
