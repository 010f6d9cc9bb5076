"""The cross-account workflow's policies: render them from the topology, check them, apply them."""
