"""One issue: its page and actions, opening new issues, evidence, and the problem leads."""
