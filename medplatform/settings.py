"""Settings, read from the environment.

With nothing set this is the embedded default: SQLite, Celery tasks run in-process, console
notifications, locmem cache. DATABASE_URL, REDIS_URL, CRYPTOGRAPHY_KEY, SECRET_KEY and the
Twilio variables switch on the real parts. MEDPLATFORM_ENV=production refuses to start without
a real SECRET_KEY and CRYPTOGRAPHY_KEY.
"""

import ipaddress
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MEDPLATFORM_VAR_DIR", BASE_DIR / "var"))

ENVIRONMENT = os.environ.get("MEDPLATFORM_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _development_secrets() -> dict[str, str]:
    """Random keys for the embedded default, made once per checkout and kept out of git."""
    path = VAR_DIR / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    generated = {
        "SECRET_KEY": "dev-only-" + secrets.token_urlsafe(48),
        "CRYPTOGRAPHY_KEY": "dev-only-" + secrets.token_urlsafe(48),
    }
    path.write_text(json.dumps(generated))
    path.chmod(0o600)
    return generated


if PRODUCTION:
    missing = [name for name in ("SECRET_KEY", "CRYPTOGRAPHY_KEY") if len(os.environ.get(name, "")) < 32]
    if missing:
        raise ImproperlyConfigured(
            "Refusing to start in production: set "
            + " and ".join(missing)
            + " to random values of at least 32 characters (for example `python -c "
            "'import secrets; print(secrets.token_urlsafe(50))'`). CRYPTOGRAPHY_KEY encrypts "
            "health data: keep it apart from SECRET_KEY and never lose it."
        )
    SECRET_KEY = os.environ["SECRET_KEY"]
    CRYPTOGRAPHY_KEY = os.environ["CRYPTOGRAPHY_KEY"]
else:
    _dev = _development_secrets() if not (os.environ.get("SECRET_KEY") and os.environ.get("CRYPTOGRAPHY_KEY")) else {}
    SECRET_KEY = os.environ.get("SECRET_KEY") or _dev["SECRET_KEY"]
    CRYPTOGRAPHY_KEY = os.environ.get("CRYPTOGRAPHY_KEY") or _dev["CRYPTOGRAPHY_KEY"]

# django-cryptography replaces CRYPTOGRAPHY_KEY with a derived value when imported; see encryption.py.
CRYPTOGRAPHY_KEY_CONFIGURED = CRYPTOGRAPHY_KEY
# Keys that encrypted data may still be under during a rotation (read only, comma separated).
CRYPTOGRAPHY_OLD_KEYS = _env_list("CRYPTOGRAPHY_OLD_KEYS")
# Unwrapped per-person data keys stay in a process's memory this long (docs/encryption.md): a key
# destroyed by another process can be used here for at most this many seconds.
DATA_KEY_CACHE_SECONDS = int(os.environ.get("DATA_KEY_CACHE_SECONDS", "60"))

DEBUG = _env_bool("DEBUG", default=False)
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS")

# Client addresses (medplatform/client_address.py): X-Forwarded-For is believed only as far as our
# own reverse proxies wrote it. TRUSTED_PROXY_COUNT is how many stand in front of the app (0: the
# header is ignored); TRUSTED_PROXIES (IPs or CIDRs) limits which direct peers may send it at all.
TRUSTED_PROXIES = _env_list("TRUSTED_PROXIES")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network") from _error
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1" if TRUSTED_PROXIES else "0"))
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "phonenumber_field",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "accounts",
    "privacy",
    "appointments",
    "health_profiles",
    "reviews",
    "standing",
    "notifications",
    "waitlist",
    "portal",
]

MIDDLEWARE = [
    "medplatform.middleware.RequestIdMiddleware",
    # Anonymous search and slot reads on the replica when one is configured (medplatform/db_routing.py).
    "medplatform.db_routing.ReplicaReadsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "medplatform.permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "medplatform.middleware.ClinicTimeZoneMiddleware",
    "medplatform.middleware.NullCharacterQueryMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "medplatform.session_lifetime.SessionLifetimeMiddleware",
    "accounts.login_limits.LoginLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "medplatform.middleware.NoStoreMiddleware",
]

if PRODUCTION:
    # gunicorn serves the admin's and Swagger UI's static files, collected at image build
    # (the development server serves them itself).
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "medplatform.urls"
WSGI_APPLICATION = "medplatform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes SQLite's write lock at BEGIN, so two bookings serialise instead of
    # failing half-way with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
DATABASES["default"].setdefault("TEST", {})
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"]["NAME"] = os.environ["TEST_DATABASE_NAME"]

# A PostgreSQL streaming replica of DATABASE_URL (docs/performance.md, "Beyond one machine"): only
# anonymous doctor search and slot reads go there, and not for a client that has just written
# (medplatform/db_routing.py). Writes and migrations always go to the primary.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0"))
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["medplatform.db_routing.PrimaryReplicaRouter"]
REPLICA_READ_ROUTES = frozenset({"doctor-list", "doctor-detail", "doctor-slots"})
# How long a client that has written reads from the primary only: well above the replica's lag.
REPLICA_STICKY_SECONDS = int(os.environ.get("REPLICA_STICKY_SECONDS", "10"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "medplatform.redis_cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Seconds a doctor's free slots stay cached (appointments/slot_cache.py: versions replaced by
# every write that changes availability keep it exact). Needs a cache every process shares:
# off (0) without Redis unless set.
SLOT_CACHE_SECONDS = int(os.environ.get("SLOT_CACHE_SECONDS", "600" if REDIS_URL else "0"))
# Seconds a public doctor search answer stays cached at most (appointments/search_cache.py: the
# same versions, and a limit from the clock stored with each answer). Off (0) without Redis unless set.
SEARCH_CACHE_SECONDS = int(os.environ.get("SEARCH_CACHE_SECONDS", "600" if REDIS_URL else "0"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.password_validation.DistinctCharactersValidator"},
]

LANGUAGE_CODE = "tr"
LANGUAGES = [("tr", _("Turkish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
DEFAULT_CLINIC_TIMEZONE = "Europe/Istanbul"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# Bodies larger than this are refused with 400 before any parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024))

PHONENUMBER_DEFAULT_REGION = "TR"
PHONENUMBER_DB_FORMAT = "E164"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer tokens only: a portal or admin session opens nothing on /api/.
        # simplejwt's, activating the user's stored language when no Accept-Language is sent.
        "medplatform.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser with a nesting limit and no NUL characters (400, not a 500 further on).
    "DEFAULT_PARSER_CLASSES": ["medplatform.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "medplatform.pagination.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "medplatform.schema.AutoSchema",
    "EXCEPTION_HANDLER": "medplatform.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login_ip": os.environ.get("THROTTLE_LOGIN_IP", "20/min"),
        "register": os.environ.get("THROTTLE_REGISTER", "10/min"),
        "booking": os.environ.get("THROTTLE_BOOKING", "30/min"),
        # Verification codes and account recovery (accounts/recovery_throttles.py).
        "verify_send_user": os.environ.get("THROTTLE_VERIFY_SEND_USER", "5/hour"),
        "verify_send_destination": os.environ.get("THROTTLE_VERIFY_SEND_DESTINATION", "3/hour"),
        "verify_send_ip": os.environ.get("THROTTLE_VERIFY_SEND_IP", "10/hour"),
        "password_reset_ip": os.environ.get("THROTTLE_PASSWORD_RESET_IP", "10/hour"),
        "password_reset_account": os.environ.get("THROTTLE_PASSWORD_RESET_ACCOUNT", "3/hour"),
        "password_reset_confirm_ip": os.environ.get("THROTTLE_PASSWORD_RESET_CONFIRM_IP", "20/hour"),
        "password_reset_confirm_account": os.environ.get("THROTTLE_PASSWORD_RESET_CONFIRM_ACCOUNT", "10/hour"),
        "password_change_user": os.environ.get("THROTTLE_PASSWORD_CHANGE_USER", "5/hour"),
        "password_change_ip": os.environ.get("THROTTLE_PASSWORD_CHANGE_IP", "20/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=int(os.environ.get("JWT_ACCESS_MINUTES", "10"))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=int(os.environ.get("JWT_REFRESH_DAYS", "14"))),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "USER_ID_FIELD": "id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Medplatform API",
    "DESCRIPTION": (
        "Appointments, health profiles under explicit consent (KVKK Art. 6), reviews. The contract "
        "in words is docs/api.md; every error body is `{code, detail}` (plus `fields`, `purpose` or "
        "`until` where said), lists are pages `{count, next, previous, results}`."
    ),
    "VERSION": "1.0.0",
    "CONTACT": {"name": "Medplatform API team", "email": "api@medplatform.example"},
    "SERVERS": [{"url": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000"), "description": "this deployment"}],
    # One tag per area; medplatform/schema.py puts each operation under one.
    "TAGS": [
        {
            "name": "accounts",
            "description": "Registration, tokens (with a second factor for staff), the user's own account.",
        },
        {"name": "clinics and doctors", "description": "Specialties, clinics, doctor search and profiles, free slots."},
        {
            "name": "schedules",
            "description": "A doctor's working hours, breaks and time off (the doctor or clinic staff).",
        },
        {
            "name": "consent",
            "description": "Notice texts and explicit consents per purpose (KVKK Art. 6): give, list, withdraw.",
        },
        {"name": "appointments", "description": "Booking, the appointment lists, and every change of an appointment."},
        {
            "name": "waitlist",
            "description": "A doctor's waitlist: a freed slot is held for the first patient in line, who claims it.",
        },
        {
            "name": "health profile",
            "description": "The patient's health entries, sharing with a doctor, access log, export.",
        },
        {"name": "reviews", "description": "Reviews after a completed visit, doctors' replies, reports to moderation."},
        {
            "name": "no-show policy",
            "description": "Missed visits counted per clinic, the online-booking block they earn, appeals and "
            "the clinic staff's decisions.",
        },
        {"name": "notifications", "description": "The user's messages and channel preferences; provider callbacks."},
        {"name": "privacy", "description": "Data-subject rights: summary, requests, retention, account erasure."},
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files: no CDN, so /api/docs/ works on a closed network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "UserRoleEnum": "accounts.models.User.Role",
        "ClinicStaffRoleEnum": "accounts.models.ClinicMembership.Role",
        "LanguageEnum": "accounts.models.User.Language",
        "AppointmentStatusEnum": "appointments.models.Appointment.Status",
        "VisitTypeEnum": "appointments.models.VisitType",
        "NotificationStatusEnum": "notifications.models.Status",
        "PrivacyRequestStatusEnum": "privacy.models.DataSubjectRequest.Status",
        "ContactChannelEnum": "accounts.models.ContactVerification.Channel",
        "ConsentPurposeEnum": "privacy.models.Purpose",
        "NoShowAppealStatusEnum": "standing.models.Appeal.Status",
    },
}

# Celery: with no REDIS_URL tasks run in-process (embedded default).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL and not os.environ.get("CELERY_BROKER_URL")
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {}
# Two queues, so that a backlog of maintenance (destruction runs, reminders, the availability roll,
# breach reports) never delays a booking's message: run one worker per queue (docker-compose.yml).
# A worker started without -Q consumes all three.
CELERY_TASK_QUEUES = {"celery": {}, "notifications": {}, "maintenance": {}}
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Celery's Django fixup closes the database connection before and after every task unless this is
# set: a new PostgreSQL backend per message sent. With it, a worker treats a task as Django treats a
# request (medplatform/celery.py: close_old_connections, CONN_MAX_AGE), and the fixup itself
# reconnects only every thousand tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_ROUTES = {
    "notifications.tasks.*": {"queue": "notifications"},
    "accounts.tasks.*": {"queue": "notifications"},
    "appointments.tasks.*": {"queue": "maintenance"},
    "privacy.tasks.*": {"queue": "maintenance"},
    "waitlist.tasks.*": {"queue": "maintenance"},
}

# Booking rules. Minimum notice, horizon and cancellation cutoff are per clinic (accounts.Clinic).
BOOKING_MAX_FUTURE_APPOINTMENTS = int(os.environ.get("BOOKING_MAX_FUTURE_APPOINTMENTS", "5"))
# The no-show policy (standing/, docs/no-show.md): this many no-shows at one clinic within
# NO_SHOW_WINDOW_DAYS block the patient's online booking there for NO_SHOW_BLOCK_DAYS. A clinic
# may set its own count and days (standing.NoShowPolicy); the window is the platform's.
NO_SHOW_STRIKES_TO_BLOCK = int(os.environ.get("NO_SHOW_STRIKES_TO_BLOCK", "3"))
NO_SHOW_BLOCK_DAYS = int(os.environ.get("NO_SHOW_BLOCK_DAYS", "30"))
NO_SHOW_WINDOW_DAYS = int(os.environ.get("NO_SHOW_WINDOW_DAYS", "365"))
if NO_SHOW_STRIKES_TO_BLOCK < 1 or NO_SHOW_BLOCK_DAYS < 1 or NO_SHOW_WINDOW_DAYS < 1:
    raise ImproperlyConfigured("NO_SHOW_STRIKES_TO_BLOCK, NO_SHOW_BLOCK_DAYS and NO_SHOW_WINDOW_DAYS must be 1 or more")
MEETING_BASE_URL = os.environ.get("MEETING_BASE_URL", "https://meet.example.invalid/medplatform/")
# The FHIR export's identifier systems live under this URL (docs/fhir.md): one a deployment controls,
# set before its first export and never changed, since receivers match identifiers on it.
FHIR_IDENTIFIER_SYSTEM_BASE = os.environ.get("FHIR_IDENTIFIER_SYSTEM_BASE", "https://medplatform.invalid/fhir/sid")

# A health-profile share given without an end date ends this many days after the patient's last
# (not cancelled) visit with that doctor, or after the grant when there is no visit.
SHARE_DEFAULT_DAYS_AFTER_LAST_VISIT = int(os.environ.get("SHARE_DEFAULT_DAYS_AFTER_LAST_VISIT", "180"))

# Notifications.
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "")
TWILIO_SMS_FROM = os.environ.get("TWILIO_SMS_FROM", "")
TWILIO_WHATSAPP_FROM = os.environ.get("TWILIO_WHATSAPP_FROM", "")
# Transfers abroad (KVKK Art. 9, notifications/processors.py): Twilio is in the USA; SMS and
# WhatsApp through it are disabled until its basis is set: adequacy, standard_contract,
# binding_corporate_rules or explicit_consent. The e-mail provider's name and country (ISO code);
# one outside Turkey needs EMAIL_TRANSFER_BASIS too, or e-mail is disabled.
TWILIO_TRANSFER_BASIS = os.environ.get("TWILIO_TRANSFER_BASIS", "")
EMAIL_PROVIDER_NAME = os.environ.get("EMAIL_PROVIDER_NAME", "")
EMAIL_PROVIDER_COUNTRY = os.environ.get("EMAIL_PROVIDER_COUNTRY", "TR")
EMAIL_TRANSFER_BASIS = os.environ.get("EMAIL_TRANSFER_BASIS", "")
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
# Contact verification (accounts/verification.py) and password reset (accounts/credentials.py).
VERIFICATION_CODE_TTL_MINUTES = int(os.environ.get("VERIFICATION_CODE_TTL_MINUTES", "10"))
VERIFICATION_MAX_ATTEMPTS = int(os.environ.get("VERIFICATION_MAX_ATTEMPTS", "5"))
# Where the e-mailed reset link points (the app's page); {base} is PUBLIC_BASE_URL. uid and token
# belong in the fragment, which browsers never send to a server.
PASSWORD_RESET_LINK_FORMAT = os.environ.get(
    "PASSWORD_RESET_LINK_FORMAT", "{base}/password-reset#uid={uid}&token={token}"
)
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Backends that keep messages in the log, a file or memory: password-set links and visit details
# would be readable by whoever reads those. Production sends for real (or, with the dummy
# backend, not at all).
_UNSENT_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
}
if PRODUCTION and EMAIL_BACKEND in _UNSENT_EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        f"Refusing to start in production with EMAIL_BACKEND={EMAIL_BACKEND}: it writes every message, "
        "password-set links included, where anyone reading logs or files can use them. Set "
        "EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST, EMAIL_PORT, "
        "EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS."
    )
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@medplatform.invalid")

LOGIN_URL = "/portal/login/"
LOGIN_REDIRECT_URL = "/portal/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "medplatform.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- notifications ---
# Outbox dispatch, retries, reminders and caps (notifications/). Beat runs the sweeper and the
# reminder selection; no long ETA tasks (with Redis they come back after the visibility timeout).
NOTIFICATIONS_REMINDER_LEADS_MINUTES = [
    int(minutes) for minutes in _env_list("NOTIFICATIONS_REMINDER_LEADS_MINUTES", "1440,120")
]
NOTIFICATIONS_MAX_PER_USER_PER_DAY = int(os.environ.get("NOTIFICATIONS_MAX_PER_USER_PER_DAY", "30"))
NOTIFICATIONS_MAX_PER_APPOINTMENT_PER_DAY = int(os.environ.get("NOTIFICATIONS_MAX_PER_APPOINTMENT_PER_DAY", "8"))
# SMS and WhatsApp messages one phone number receives a day, across every account naming it.
NOTIFICATIONS_MAX_PER_NUMBER_PER_DAY = int(os.environ.get("NOTIFICATIONS_MAX_PER_NUMBER_PER_DAY", "10"))
NOTIFICATIONS_MAX_ATTEMPTS = int(os.environ.get("NOTIFICATIONS_MAX_ATTEMPTS", "8"))
NOTIFICATIONS_RETRY_BASE_SECONDS = float(os.environ.get("NOTIFICATIONS_RETRY_BASE_SECONDS", "10"))
NOTIFICATIONS_RETRY_MAX_SECONDS = float(os.environ.get("NOTIFICATIONS_RETRY_MAX_SECONDS", "900"))
# A row in `sending` for longer than this is taken to belong to a dead worker; keep it well above
# the provider timeout so a slow but live send is never taken over.
NOTIFICATIONS_SENDING_STALE_SECONDS = float(os.environ.get("NOTIFICATIONS_SENDING_STALE_SECONDS", "120"))
NOTIFICATIONS_SWEEP_GRACE_SECONDS = float(os.environ.get("NOTIFICATIONS_SWEEP_GRACE_SECONDS", "30"))
NOTIFICATIONS_SWEEP_BATCH = int(os.environ.get("NOTIFICATIONS_SWEEP_BATCH", "500"))
# A drain (notifications.services.notifications_drain) sends due rows this many at a time, for at
# most this many seconds before handing over to its successor; its flag outlives a lost drain by this.
NOTIFICATIONS_DRAIN_BATCH = int(os.environ.get("NOTIFICATIONS_DRAIN_BATCH", "50"))
NOTIFICATIONS_DRAIN_SECONDS = float(os.environ.get("NOTIFICATIONS_DRAIN_SECONDS", "10"))
NOTIFICATIONS_DRAIN_FLAG_SECONDS = int(os.environ.get("NOTIFICATIONS_DRAIN_FLAG_SECONDS", "30"))
NOTIFICATIONS_SWEEP_INTERVAL_SECONDS = float(os.environ.get("NOTIFICATIONS_SWEEP_INTERVAL_SECONDS", "30"))
TWILIO_TIMEOUT_SECONDS = float(os.environ.get("TWILIO_TIMEOUT_SECONDS", "10"))
# Web Push (VAPID, RFC 8292) for the push channel: the application server's private key (base64url,
# raw or DER, as `vapid --gen` writes it) and the contact the push services see. Unset: push rows wait.
VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "")
VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "")
PUSH_TIMEOUT_SECONDS = float(os.environ.get("PUSH_TIMEOUT_SECONDS", "10"))
# How long a push service keeps a message for a device that is offline.
PUSH_TTL_SECONDS = int(os.environ.get("PUSH_TTL_SECONDS", str(24 * 3600)))
# The push services a device's endpoint may point at (a host or a parent domain): the server posts
# to it, so nothing else is accepted.
PUSH_ENDPOINT_HOSTS = _env_list(
    "PUSH_ENDPOINT_HOSTS", "fcm.googleapis.com,push.services.mozilla.com,push.apple.com,notify.windows.com"
)
CELERY_BEAT_SCHEDULE.update(
    {
        "notifications-sweep-outbox": {
            "task": "notifications.tasks.sweep_outbox",
            "schedule": NOTIFICATIONS_SWEEP_INTERVAL_SECONDS,
        },
        "notifications-send-due-reminders": {
            "task": "appointments.tasks.send_due_reminders",
            "schedule": float(os.environ.get("NOTIFICATIONS_REMINDER_INTERVAL_SECONDS", "60")),
        },
    }
)
# --- end notifications ---

# --- retention ---
# Periodic destruction (privacy/retention.py): each app registers its retention rules; beat runs
# them daily (the erasure regulation allows at most 6 months between runs) and logs each run.
NOTIFICATION_RETENTION_DAYS = int(os.environ.get("NOTIFICATION_RETENTION_DAYS", "180"))
PRIVACY_REQUEST_RETENTION_DAYS = int(os.environ.get("PRIVACY_REQUEST_RETENTION_DAYS", "1095"))

# The data controller (KVKK Art. 10) and its application channels, shown with every consent text, in
# the privacy summary and on the portal (privacy/controller.py). The defaults are DEMO placeholders:
# a real deployment must set all four.
CONTROLLER_NAME = os.environ.get("CONTROLLER_NAME", "Medplatform Demo (DEMO placeholder, not a real company)")
CONTROLLER_ADDRESS = os.environ.get("CONTROLLER_ADDRESS", "DEMO placeholder address, İstanbul, Türkiye")
CONTROLLER_EMAIL = os.environ.get("CONTROLLER_EMAIL", "kvkk@medplatform.invalid")
CONTROLLER_KEP = os.environ.get("CONTROLLER_KEP", "demo-placeholder@kep.medplatform.invalid")
# Portal messages live in the session, not in a cookie of their own: the portal sets only the
# session, CSRF and language cookies (the cookie notice in portal/templates/portal/base.html).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# docs/retention.md says why each default: visit reasons 2 years after the visit (the medical
# record proper is the clinic's), appointments 10 years (Turkish Code of Obligations Art. 146),
# audit entries and consent proof 10 years, reviews 3 years, time off 1 year after it ended.
VISIT_REASON_RETENTION_DAYS = int(os.environ.get("VISIT_REASON_RETENTION_DAYS", "730"))
APPOINTMENT_RETENTION_DAYS = int(os.environ.get("APPOINTMENT_RETENTION_DAYS", "3650"))
AUDIT_RETENTION_DAYS = int(os.environ.get("AUDIT_RETENTION_DAYS", "3650"))
CONSENT_PROOF_RETENTION_DAYS = int(os.environ.get("CONSENT_PROOF_RETENTION_DAYS", "3650"))
REVIEW_RETENTION_DAYS = int(os.environ.get("REVIEW_RETENTION_DAYS", "1095"))
TIME_OFF_RETENTION_DAYS = int(os.environ.get("TIME_OFF_RETENTION_DAYS", "365"))
BREACH_RETENTION_DAYS = int(os.environ.get("BREACH_RETENTION_DAYS", "3650"))
CELERY_BEAT_SCHEDULE.update(
    {
        "privacy-run-destruction": {
            "task": "privacy.tasks.run_destruction",
            "schedule": crontab(
                hour=int(os.environ.get("RETENTION_DESTRUCTION_HOUR_UTC", "2")),
                minute=int(os.environ.get("RETENTION_DESTRUCTION_MINUTE", "30")),
            ),
        },
        # The breach register's daily report (privacy/breaches.py): flags breaches past the
        # Board's 72-hour notice deadline.
        "privacy-breach-report": {
            "task": "privacy.tasks.breach_report",
            "schedule": crontab(
                hour=int(os.environ.get("BREACH_REPORT_HOUR_UTC", "6")),
                minute=int(os.environ.get("BREACH_REPORT_MINUTE", "0")),
            ),
        },
    }
)
# --- end retention ---

# --- access security (issue 11) ---
# Every password check goes through the login limits (accounts/login_limits.py): per account and
# client address, per address, and a capped per-account slowdown; none can lock the owner out.
AUTHENTICATION_BACKENDS = ["accounts.login_limits.LimitedModelBackend"]
LOGIN_LIMIT_PAIR_FREE_FAILURES = int(os.environ.get("LOGIN_LIMIT_PAIR_FREE_FAILURES", "5"))
LOGIN_LIMIT_ADDRESS_FREE_FAILURES = int(os.environ.get("LOGIN_LIMIT_ADDRESS_FREE_FAILURES", "20"))
LOGIN_LIMIT_ACCOUNT_FREE_FAILURES = int(os.environ.get("LOGIN_LIMIT_ACCOUNT_FREE_FAILURES", "10"))
LOGIN_LIMIT_BASE_DELAY_SECONDS = float(os.environ.get("LOGIN_LIMIT_BASE_DELAY_SECONDS", "2"))
LOGIN_LIMIT_MAX_DELAY_SECONDS = float(os.environ.get("LOGIN_LIMIT_MAX_DELAY_SECONDS", "900"))
LOGIN_LIMIT_ACCOUNT_MAX_DELAY_SECONDS = float(os.environ.get("LOGIN_LIMIT_ACCOUNT_MAX_DELAY_SECONDS", "60"))
LOGIN_LIMIT_MEMORY_SECONDS = int(os.environ.get("LOGIN_LIMIT_MEMORY_SECONDS", str(24 * 3600)))

# Second factor (django-otp): the name authenticator apps show, and wrong codes slow each device
# down 1, 2, 4, 8 ... seconds.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Medplatform")

# Portal and admin sessions: SESSION_IDLE_TIMEOUT_MINUTES without a request, and
# SESSION_ABSOLUTE_TIMEOUT_HOURS after the login however active (medplatform/session_lifetime.py).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_TIMEOUT_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = int(os.environ.get("SESSION_ABSOLUTE_TIMEOUT_HOURS", "12")) * 3600

# Content-Security-Policy (django-csp) on every response: our own files only; the inline style of
# the portal and the inline script and style of Swagger UI (/api/docs/) carry the request's nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
# Browser features no page of ours uses (Permissions-Policy, medplatform/permissions_policy.py).
PERMISSIONS_POLICY = [
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "usb",
    "xr-spatial-tracking",
]
# --- end access security ---

# --- availability index ---
# Days rolling into each clinic's booking window get their index rows, days gone by lose theirs
# (appointments/availability_index.py). Just after midnight UTC: the window is counted in UTC days.
CELERY_BEAT_SCHEDULE["appointments-roll-availability"] = {
    "task": "appointments.tasks.roll_availability",
    "schedule": crontab(
        hour=int(os.environ.get("AVAILABILITY_ROLL_HOUR_UTC", "0")),
        minute=int(os.environ.get("AVAILABILITY_ROLL_MINUTE", "5")),
    ),
}
# --- end availability index ---

# --- confirm or release (docs/confirmation.md) ---
# The confirmation request (a reminder asking to confirm or cancel) goes out this many hours
# before the clinic's deadline; a visit booked after that moment needs no confirmation.
CONFIRMATION_REQUEST_HOURS = int(os.environ.get("CONFIRMATION_REQUEST_HOURS", "24"))
CONFIRMATION_REPLY_FLAG_RETENTION_DAYS = int(os.environ.get("CONFIRMATION_REPLY_FLAG_RETENTION_DAYS", "90"))
CELERY_BEAT_SCHEDULE["appointments-release-unconfirmed"] = {
    "task": "appointments.tasks.release_unconfirmed",
    "schedule": float(os.environ.get("CONFIRMATION_RELEASE_INTERVAL_SECONDS", "60")),
}
# --- end confirm or release ---
# --- waitlist ---
# A freed slot is held for the first patient in line for this long (waitlist/services.py); an
# unclaimed hold passes to the next in line at the sweep after its expiry.
WAITLIST_HOLD_MINUTES = int(os.environ.get("WAITLIST_HOLD_MINUTES", "15"))
WAITLIST_SWEEP_INTERVAL_SECONDS = float(os.environ.get("WAITLIST_SWEEP_INTERVAL_SECONDS", "60"))
# Lapsed offers handled per sweep transaction.
WAITLIST_SWEEP_BATCH = int(os.environ.get("WAITLIST_SWEEP_BATCH", "500"))
# How far ahead a waitlist entry's last day may be (the default clinic horizon).
WAITLIST_MAX_DAYS_AHEAD = int(os.environ.get("WAITLIST_MAX_DAYS_AHEAD", "90"))
# Ended entries (claimed, expired, left) and their offers are deleted this long after they ended.
WAITLIST_RETENTION_DAYS = int(os.environ.get("WAITLIST_RETENTION_DAYS", "30"))
CELERY_BEAT_SCHEDULE["waitlist-sweep-offers"] = {
    "task": "waitlist.tasks.sweep_offers",
    "schedule": WAITLIST_SWEEP_INTERVAL_SECONDS,
}
# --- end waitlist ---
