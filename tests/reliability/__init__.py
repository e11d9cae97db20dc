"""Reliability and security tests: stateful property tests of the service, concurrency on
SQLite and PostgreSQL, and static checks (bandit, bulk-update lint)."""
