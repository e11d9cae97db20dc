"""The demo: a realistic province in every stage, and the source article played end to end.

- :mod:`~workflow.demo.province`: units, people for every role, rounds, issues;
- :mod:`~workflow.demo.linkage_story`: the article's 上下联动 story on that province;
- :mod:`~workflow.demo.steps`: steps both take the same way.

Everything goes through the service and the linkage API, as a user would.
"""
