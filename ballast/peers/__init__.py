"""The peers Ballast is measured against, deployed from their own npm artifacts on the same
chain, over the same tokens, feeds and pools: Set Protocol v2 (``set_protocol``)."""
