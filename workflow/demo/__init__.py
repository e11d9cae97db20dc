"""The demo: a realistic province in every stage, and the source article played end to end.

- :mod:`~workflow.demo.province`: builds the province — its units, people and rounds
  (:mod:`~workflow.demo.skeleton`, :mod:`~workflow.demo.people`, names in
  :mod:`~workflow.demo.catalogue`) and issues in every stage (:mod:`~workflow.demo.lifecycle`);
- :mod:`~workflow.demo.linkage_story`: the article's 上下联动 story on that province,
  told by :mod:`~workflow.demo.teller` in :mod:`~workflow.demo.story_provincial` and
  :mod:`~workflow.demo.story_relay`;
- :mod:`~workflow.demo.steps`: steps both take the same way.

Everything goes through the service and the linkage API, as a user would.
"""

from workflow.demo.linkage_story import Story, build_story
from workflow.demo.province import DEMO_PASSWORD, Demo, build, is_empty

__all__ = ["DEMO_PASSWORD", "Demo", "Story", "build", "build_story", "is_empty"]
