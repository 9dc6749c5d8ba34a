"""Training scenarios of the sandbox: TOML data files (see docs/scenarios.md)."""
