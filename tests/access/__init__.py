"""Offline IAM evaluation of the stack's real policy documents (the access matrix harness)."""
