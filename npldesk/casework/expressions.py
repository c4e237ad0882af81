"""Query expressions the casework's selectors and access rules share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import BooleanField, Expression, F, QuerySet, Subquery


class InSubquery(Expression):
    """``column IN (subquery)``, written ``column = ANY(ARRAY(subquery))`` on PostgreSQL: there
    the subquery runs once, before the scan, and its values reach the column's index even as one
    term of an ``OR`` (an ``IN``'s hashed subplan is a filter on every row of the table)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str, query: QuerySet[Any]) -> None:
        super().__init__()
        self.column: Any = F(column)
        self.query: Any = Subquery(query)

    def get_source_expressions(self) -> list[Any]:
        return [self.column, self.query]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.column, self.query = exprs

    def as_sql(self, compiler: Any, connection: Any, template: str = "{} IN {}") -> Any:
        column, column_params = compiler.compile(self.column)
        query, query_params = compiler.compile(self.query)
        return template.format(column, query), (*column_params, *query_params)

    def as_postgresql(self, compiler: Any, connection: Any) -> Any:
        return self.as_sql(compiler, connection, template="{} = ANY(ARRAY{})")
