"""Public doctor search and a doctor's public page (`/doctors/`, `/doctors/{id}/`): identity from
accounts, availability from the index (appointments/search.py)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import DoctorDetailOutput, DoctorListOutput, doctor_list_rows
from appointments import search, search_cache
from medplatform.apiviews import validated
from medplatform.date_fields import InRangeDateField
from medplatform.pagination import CountedPagination


class DoctorListApi(APIView):
    pagination_class = CountedPagination
    permission_classes = [AllowAny]

    class Filters(serializers.Serializer):
        specialty = serializers.CharField(
            required=False, max_length=100, help_text="slug, id, or a name in either language"
        )
        city = serializers.CharField(required=False, max_length=100)
        clinic = serializers.UUIDField(required=False)
        q = serializers.CharField(required=False, max_length=100)
        available_on = InRangeDateField(required=False)
        ordering = serializers.ChoiceField(choices=search.DOCTOR_ORDERINGS, required=False)

    @extend_schema(parameters=[Filters], responses=DoctorListOutput(many=True))
    def get(self, request):
        filters = validated(self.Filters, request.query_params)
        paginator = self.pagination_class()
        if filters.get("ordering") == "next_available":
            doctors = search.doctor_list(**filters)
            ids, next_available = search.doctor_ids_by_next_available(doctors=doctors)
            page = search.doctors_in_order(ids=paginator.paginate_queryset(ids, request, view=self))
            return paginator.get_paginated_response(doctor_list_rows(page, next_available))

        def compute(now):
            doctors = search.doctor_list(**filters, now=now)
            if search_cache.enabled():
                doctors = search.with_clinic_limits(doctors)
            page = paginator.paginate_queryset(doctors, request, view=self)
            doctor_ids = [doctor.id for doctor in page]
            # One batch for the whole page: the same two queries at any page size.
            next_available = search.next_available_for(doctor_ids=doctor_ids, now=now)
            results = doctor_list_rows(page, next_available)
            first = page[0] if page else None
            return search_cache.SearchPage(
                count=paginator.page.paginator.count,
                results=results,
                next_available=next_available,
                doctor_ids=doctor_ids,
                longest_notice_minutes=getattr(first, "longest_notice_minutes", None),
                shortest_horizon_days=getattr(first, "shortest_horizon_days", None),
            )

        number = paginator.requested_number(request)
        page_size = paginator.get_page_size(request)
        count, results = search_cache.cached_page(filters=filters, number=number, page_size=page_size, compute=compute)
        paginator.show(request, number=number, count=count, results=results)
        return paginator.get_paginated_response(results)


class DoctorDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=DoctorDetailOutput)
    def get(self, request, doctor_id):
        doctor = get_object_or_404(search.doctor_list(), id=doctor_id)
        context = {"next_available": search.next_available_for(doctor_ids=[doctor.id])}
        return Response(DoctorDetailOutput(doctor, context=context).data)
