"""The 巡视巡察上下联动监督网 in figures: definitions, entered figures, statistics, quality
and the special checks of lower levels' inspection work."""
