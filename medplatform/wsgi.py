import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medplatform.settings")

application = get_wsgi_application()

from privacy.startup import verify  # noqa: E402  (needs the app registry loaded above)

verify()
