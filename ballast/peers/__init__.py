"""The peers Ballast is measured against, deployed from their own npm artifacts on the same
chain, over the same tokens, feeds and pools: Set Protocol v2 (``set_protocol``) and a Balancer V2
weighted pool (``ballast.venues.balancer_v2``), raced in ``race``."""
