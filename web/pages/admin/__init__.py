"""Administration for an inspection office: units, users and roles, rounds, definitions."""
