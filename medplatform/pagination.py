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
