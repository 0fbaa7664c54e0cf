"""Sharing a credential outside the wallet (LinkedIn) (issue 23)."""
