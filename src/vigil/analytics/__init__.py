"""Analytics: summaries, recurrence and trends, computed in SQL."""
