"""The organisation: the unit tree, its people and their roles, API tokens, and scope.

- :mod:`~workflow.org.units`: adding units, users and roles; password hashing;
- :mod:`~workflow.org.tokens`: API tokens, stored hashed;
- :mod:`~workflow.org.sessions`: a changed password or role ends the user's sessions (a
  ``before_flush`` rule on every session, installed by the app);
- :mod:`~workflow.org.scope`: who may see and act on which issue (one definition for SQL
  and Python).

Must not import flask or ``notifications``.
"""
