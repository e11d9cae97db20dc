"""The HTML pages, one package per area, each view a blueprint route answering htmx too.

- ``work``: my work (home), the supervision and spot-check queues, the inbox;
- ``issues``: the issue page and its actions, opening issues, evidence, problem leads;
- ``overview``: the board (unit progress), the ledger, statistics;
- ``admin``: units, users, rounds, definitions;  ``linkage``: 上下联动;
- ``excel``: import and export;  ``common``: helpers the pages share.

Pages read through ``workflow.queries`` and write through ``workflow.service``.
"""
