"""Venues off-chain: one protocol (``routing.VenuePool``) and its curves, constant product
(``amm``, Uniswap V2), concentrated liquidity (Uniswap V3) and weighted (Balancer V2), each with
the chain I/O that deploys, seeds and snapshots its pools."""
