"""Chain I/O: npm artifacts, deployment from a spec, the vault's state read, market snapshots
and the local arbitrageur, Chainlink's feed contracts."""
