"""Many issues at once: the unit board, the rectification ledger, the statistics."""
