"""Analytics: Ibis expressions over the tape store (classification, asset quality, movement,
migration, lists). Backend-neutral: DuckDB by default, PySpark to scale out. Never imports Django.
"""
