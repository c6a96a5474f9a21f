"""The two steps every API view shares: validate input with a serializer, page a queryset."""

from rest_framework.response import Response
from rest_framework.views import APIView

from medplatform.pagination import Pagination


def validated(serializer_class, data, **kwargs) -> dict:
    """Validate `data` (raises the API's validation_error) and return a plain dict."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def paginated_response(view: APIView, queryset, serializer_class, context: dict | None = None) -> Response:
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)
