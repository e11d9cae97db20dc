"""Delivery of the notifications the engine writes to the outbox.

``workflow`` writes ``outbox`` rows in the same transaction as their cause (the
transactional outbox); this package delivers them: :mod:`notifications.dispatch` (claim,
deliver, record, retry with backoff, delivery incidents), one module per channel behind
the registry in :mod:`notifications.channels` (in-app inbox, SMTP email, signed webhook),
:mod:`notifications.digest` (the daily e-mail digest) and :mod:`notifications.flows`
(the dispatch as a Prefect flow).

Imports go one way: ``notifications`` may import ``workflow``, never ``web`` or flask.
Nothing here opens a connection or reads configuration at import time.
"""
