"""The organisation: the unit tree, its people and their roles, API tokens, and scope.

- :mod:`~workflow.org.units`: adding units, users and roles; password hashing;
- :mod:`~workflow.org.tokens`: API tokens, stored hashed;
- :mod:`~workflow.org.scope`: who may see and act on which issue (one definition for SQL
  and Python).

Must not import flask or ``notifications``.
"""
