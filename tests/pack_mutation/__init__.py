"""Mutation tests of the policy pack: one-detail weakenings of the project's own stacks."""
