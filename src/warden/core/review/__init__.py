"""Review of agent changes: change-risk labels (risk), diffs (diff), owners (codeowners)."""
