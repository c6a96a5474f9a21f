from django.core.paginator import Page
from django.db.models import Count, QuerySet, Window
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """`?page=` (from 1) and `?page_size=` (default 20, at most 100); an envelope of four keys.

    A list view names it as its `pagination_class`: `paginated_response` pages with it, and the
    OpenAPI schema (drf-spectacular) reads the same attribute to document the envelope and the two
    parameters, so the schema cannot say "array" while the view sends a page."""

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_paginated_response_schema(self, schema):
        page = super().get_paginated_response_schema(schema)
        # All four keys are always sent (next/previous as null at the ends).
        page["required"] = ["count", "next", "previous", "results"]
        page["properties"]["count"].pop("example", None)
        page["properties"]["next"].pop("example", None)
        page["properties"]["previous"].pop("example", None)
        return page

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
                parameter["description"] = "Results per page (default 20, at most 100)."
            else:
                parameter["description"] = "Page number, from 1; past the last page: 404 not_found."
        return parameters


class CountedPagination(Pagination):
    """The same pages, the count read with the page: `COUNT(*) OVER ()` on the page's query
    instead of a `SELECT COUNT(*)` of its own (one query fewer; for hot public lists). A list
    rather than a queryset is paged as before. An empty page is the first page of nothing, or
    past the last page (404 not_found, as the parent answers)."""

    def requested_number(self, request) -> int | None:
        """The page number asked for, when it is a plain one (not `last`, not malformed)."""
        number_text = request.query_params.get(self.page_query_param) or "1"
        return int(number_text) if number_text.isdigit() and int(number_text) >= 1 else None

    def show(self, request, *, number: int | None, count: int, results: list) -> None:
        """Page `number` of `count` rows is `results` (a cached answer): the envelope's links
        follow, without a query. None: the page read by paginate_queryset stays."""
        if number is None:
            return
        self.request = request
        paginator = self.django_paginator_class([], self.get_page_size(request))
        paginator.count = count
        self.page = Page(results, number, paginator)

    def paginate_queryset(self, queryset, request, view=None):
        number_text = request.query_params.get(self.page_query_param) or "1"
        if not isinstance(queryset, QuerySet) or number_text in self.last_page_strings:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class([], page_size)
        try:
            number = int(number_text)
            if number < 1:
                raise ValueError(number_text)
        except ValueError as exc:
            raise NotFound(self.invalid_page_message.format(page_number=number_text, message=str(exc))) from exc
        offset = (number - 1) * page_size
        rows = list(queryset.annotate(page_total=Window(Count("pk")))[offset : offset + page_size])
        if not rows and number > 1:
            raise NotFound(self.invalid_page_message.format(page_number=number_text, message="That page is empty."))
        paginator.count = rows[0].page_total if rows else 0
        self.page = Page(rows, number, paginator)
        return rows
