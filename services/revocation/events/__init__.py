"""What the revocation service does on its events: the Redis projection and the re-signing publisher."""
