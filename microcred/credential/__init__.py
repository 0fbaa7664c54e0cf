"""Credential documents shared by every service: the Open Badges 3.0 rendering of the EU model, reading it
back, deterministic identifiers and fast Data Integrity signing of many credentials of one shape."""
