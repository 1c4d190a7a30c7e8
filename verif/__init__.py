"""Verification of the MRAM macro: unit tests, cocotb integration tests, generated artefacts."""
