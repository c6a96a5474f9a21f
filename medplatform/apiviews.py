"""The two steps every API view shares: validate input with a serializer, page a queryset."""

from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework.response import Response
from rest_framework.views import APIView

from medplatform.errors import ValidationFailed


def validated(serializer_class, data, **kwargs) -> dict:
    """Validate `data` (raises the API's validation_error) and return a plain dict.

    A JSON body naming a field the serializer does not accept (unknown, or read-only such as an
    appointment's `start` on PATCH) is refused, each such field named: clients must not believe a
    change was made that was not. Query strings and form posts (QueryDicts: paging parameters,
    Twilio's callbacks with fields we do not read) are not checked."""
    serializer = serializer_class(data=data, **kwargs)
    if isinstance(data, dict) and not isinstance(data, QueryDict):
        writable = {name for name, field in serializer.fields.items() if not field.read_only}
        refused = sorted(str(key) for key in data if key not in writable)
        if refused:
            raise ValidationFailed(fields={name: [_("This field cannot be set here.")] for name in refused})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def paginated_response(view: APIView, queryset, serializer_class, context: dict | None = None) -> Response:
    """One page of `queryset` in the view's `pagination_class` envelope (the schema reads the same
    attribute, so a view that pages must name it)."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)
