"""Cross-source clustering of classified items into stories (pure): see clustering.py for the rules.

facts.py compares and merges stated facts, text.py measures text similarity across languages,
lexicon.py reads the terms both use from classify/lexicon.toml.
"""

from wirewatch.stories.clustering import DEFAULT_WINDOW, EVENT_TZ, MAX_EVIDENCE, assign_story, cluster, story_id_for
from wirewatch.stories.facts import EVENT_DATE, LAUNCH_REPORT_FACTS, MISSILE_FACTS, SANCTIONS_FACTS

__all__ = [
    "DEFAULT_WINDOW",
    "EVENT_DATE",
    "EVENT_TZ",
    "LAUNCH_REPORT_FACTS",
    "MAX_EVIDENCE",
    "MISSILE_FACTS",
    "SANCTIONS_FACTS",
    "assign_story",
    "cluster",
    "story_id_for",
]
