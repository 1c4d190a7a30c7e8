"""Digital periphery of the MRAM crossbar, one block per module (see docs/architecture.md)."""
