"""npldesk: a bank branch network's non-performing-loan work.

Data flows one way: ``tape`` (month-end loan data in, validated, stored as Parquet) →
``analytics`` (Ibis expressions: classification, asset quality, movement, lists) → ``reports``;
``casework`` (Django apps: cases per NPL household) reads the analytics lists; ``web`` and ``cli``
are the faces over all of it. ``core`` holds the framework-free vocabulary they share.
"""

__version__ = "0.1.0"
