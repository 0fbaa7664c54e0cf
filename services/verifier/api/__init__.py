"""The gateway's HTTP edge: routes, the fast path, admission and limits, problem+json, and the pages."""
