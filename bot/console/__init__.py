"""The staff console's own data: unanswered questions grouped by meaning, live templates."""
