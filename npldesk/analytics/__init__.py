"""Analytics: Ibis expressions over the tape store — classification, asset quality, NPL
movement, migration, roll rates, vintage curves and lists (``docs/figures.md``).

Backend-neutral: DuckDB by default, PySpark to scale out; the same functions run on both.
Never imports Django. For analysts::

    from npldesk import analytics
    session = analytics.Analytics(store=Store(path), engine=analytics.connect("duckdb"))
    december = session.classified(date(2019, 12, 31))      # an Ibis table
    december.filter(december.is_npl).principal_balance.sum().execute()
"""

from npldesk.analytics.backend import Engine, connect
from npldesk.analytics.classify import classify_month, ensure_classified
from npldesk.analytics.session import Analytics

__all__ = ["Analytics", "Engine", "classify_month", "connect", "ensure_classified"]
