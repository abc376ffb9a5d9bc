"""The address database: loading, normalizing, matching, suggesting, and the decision
"ours / someone else's / unknown" for an address."""
