"""The gate: regression runs, graders, targets, A/B comparisons."""
