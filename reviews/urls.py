from django.urls import path

from reviews import apis

urlpatterns = [
    # Sits under appointments/ in the API, but the reviews app owns it.
    path("appointments/<uuid:appointment_id>/review/", apis.AppointmentReviewApi.as_view(), name="appointment-review"),
    path("doctors/<uuid:doctor_id>/reviews/", apis.DoctorReviewListApi.as_view(), name="doctor-reviews"),
    path("me/reviews/", apis.MyReviewListApi.as_view(), name="my-reviews"),
    path("reviews/<uuid:review_id>/reply/", apis.ReviewReplyApi.as_view(), name="review-reply"),
    path("reviews/<uuid:review_id>/report/", apis.ReviewReportApi.as_view(), name="review-report"),
]
