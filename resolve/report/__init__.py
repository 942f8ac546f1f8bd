"""Failures rendered for people: the derivation tree, ``hint:`` lines, ``--explain``."""
