"""The issuer's use cases: issuing (EU model and VC-API), the trust registry's commands, cohort validation."""
