"""Snapshot rows → each project's candidate versions under the rules, and the solver's provider."""
