"""Error pages: the API's JSON shape under /api/, HTML pages (the portal's look) everywhere else,
so a doctor in the portal or the admin never meets a raw JSON body."""

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from medplatform import errors


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def page_400(request, exception=None):
    if _is_api(request):
        return errors.json_400(request, exception)
    return render(request, "errors/400.html", status=400)


def page_403(request, exception=None):
    if _is_api(request):
        return errors.json_403(request, exception)
    return render(request, "errors/403.html", status=403)


def page_404(request, exception=None):
    if _is_api(request):
        return errors.json_404(request, exception)
    return render(request, "errors/404.html", status=404)


def page_500(request):
    if _is_api(request):
        return errors.json_500(request)
    # No context processors: whatever broke the request (the database, a session) must not break
    # this page too.
    return HttpResponseServerError(loader.get_template("errors/500.html").render({"request": request}))
