"""Test helpers for the transfer tests: the discard S3 server, the fault proxy, fixtures."""
