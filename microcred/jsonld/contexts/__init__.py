"""Vendored, hash-pinned JSON-LD context documents (data only; see manifest.json and SOURCES.md)."""
