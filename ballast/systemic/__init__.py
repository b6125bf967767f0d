"""Many vaults, one market: ``python -m ballast.systemic`` (see :mod:`ballast.systemic.model`)."""
