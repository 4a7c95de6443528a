"""Settings for Safety Portal.

Every value that differs between machines comes from the environment, parsed by django-environ and
checked here so that a bad value stops the process at start-up with `ImproperlyConfigured` instead of
misbehaving later. Nothing in this module keeps state that a second web process would need: sessions,
cache and throttling live in PostgreSQL or Redis, never in process memory (except the embedded demo,
which runs one process on SQLite with Celery eager).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def _bool(name: str, default: bool) -> bool:
    """Parse a boolean strictly: a typo such as DEBUG=ture must not silently mean False."""
    raw = env.str(name, default="").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false.")


def _int(name: str, default: int) -> int:
    """Parse a whole number strictly, naming the variable when it is not one."""
    raw = env.str(name, default="").strip()
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


DEBUG = _bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random value (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`), or set DEBUG=true "
            "for a local development run."
        )
    SECRET_KEY = "insecure-development-key-" + "x" * 40

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the portal's host names when DEBUG is off.")

TIME_ZONE = env.str("TIME_ZONE", default="UTC")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(
        f"TIME_ZONE={TIME_ZONE!r} is not an IANA time zone name (for example Europe/Dublin)."
    ) from exc
USE_TZ = True
LANGUAGE_CODE = "en-gb"
USE_I18N = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "safety_portal.core.audit",
    "accounts",
    "messaging",
    "moderation",
    "safety_portal.core.outbox",  # issue 7: the transactional outbox and job runs
    "safety_portal.core.api",  # issue 6: API clients, idempotency, webhooks
    "safety_portal.integrations",  # the roof: domain events to webhooks, the age gate
]
# Portal (issue 5): staff two-factor with TOTP and backup codes, login lockout.
INSTALLED_APPS += [
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
]

MIDDLEWARE = [
    "safety_portal.core.metrics.RequestLatencyMiddleware",  # first: it times everything below
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "safety_portal.core.audit.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# Portal (issue 5): the CSP header on every response; django-otp marks a verified session, and the
# portal's middleware sends staff to the second factor before any page; axes runs last (its docs).
MIDDLEWARE.insert(1, "safety_portal.portal.security.ContentSecurityPolicyMiddleware")
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
    "safety_portal.portal.security.SessionIdleMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1,
    "safety_portal.portal.middleware.StaffTwoFactorMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")

ROOT_URLCONF = "safety_portal.urls"
WSGI_APPLICATION = "safety_portal.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

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

# --- Database -------------------------------------------------------------------------------------
# Without DATABASE_URL the portal runs embedded on SQLite (the demo); with it, PostgreSQL is the one
# source of truth. Database-level guards (triggers) exist on PostgreSQL only; see docs/decisions.md.
DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
try:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
except Exception as exc:  # django-environ raises several types for a malformed URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
# django-environ returns a config without ENGINE for a string with no known scheme ("localhost").
if DATABASES["default"].get("ENGINE") not in {
    "django.db.backends.postgresql",
    "django.db.backends.sqlite3",
}:
    raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:/// URL.")
if not DATABASES["default"].get("NAME"):
    raise ImproperlyConfigured(
        "DATABASE_URL names no database (postgres://user@host:5432/NAME or sqlite:////path)."
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", _int("DB_CONN_MAX_AGE", default=60))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# Server-side prepared statements (psycopg's prepare_threshold): a message send re-plans its one
# read on every call without them (bench/bench_messaging.py). Off by default because a transaction
# pooler in front of PostgreSQL must support them (pgbouncer >= 1.21 with max_prepared_statements).
if IS_POSTGRES and env.str("DB_PREPARE_THRESHOLD", default="").strip():
    _threshold = _int("DB_PREPARE_THRESHOLD", default=0)
    if _threshold < 0:
        raise ImproperlyConfigured("DB_PREPARE_THRESHOLD must be 0 or more (0 prepares at once).")
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = _threshold
# Server-side parameter binding (Django's `server_side_binding`, psycopg 3): by default Django
# binds parameters on the client, so every ORM query reaches PostgreSQL as new text and
# DB_PREPARE_THRESHOLD prepares only raw SQL. With DB_SERVER_SIDE_BINDING=true the ORM's queries
# are sent with $n parameters and, together with DB_PREPARE_THRESHOLD, prepared after that many
# runs on a connection. Off by default: the same pooler caveat as above, and a worker keeps its
# prepared plans until it reconnects, so restart workers after a migration that alters a table.
if IS_POSTGRES and _bool("DB_SERVER_SIDE_BINDING", default=False):
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
# Issue 14.4: a streaming replica for the heavy reads (safety_portal/core/replica.py). Reads marked
# heavy go there while it lags at most REPLICA_MAX_LAG_SECONDS; all else stays on the primary.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    if not IS_POSTGRES:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL.")
    try:
        DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL)
    except Exception as exc:  # django-environ raises several types for a malformed URL
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URL is not a valid URL: {exc}") from exc
    if DATABASES["replica"].get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must be a postgres:// URL.")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["safety_portal.core.replica.ReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=10.0)
REPLICA_LAG_CHECK_SECONDS = env.float("REPLICA_LAG_CHECK_SECONDS", default=2.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    _redis = urlsplit(REDIS_URL)
    try:
        _redis_port = _redis.port  # ValueError for a port that is not a number
    except ValueError:
        _redis_port = -1
    if (
        _redis.scheme not in {"redis", "rediss"}
        or not _redis.hostname
        or _redis_port == -1
        or not (_redis.path.strip("/") == "" or _redis.path.strip("/").isdigit())
    ):
        # The URL may carry a password, so the message describes it instead of echoing it.
        raise ImproperlyConfigured(
            "REDIS_URL is not a Redis URL such as redis://127.0.0.1:6379/0: it needs the scheme "
            "redis:// or rediss://, a host, a numeric port if any, and a numeric database if any."
        )
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="sp"),
            # Fail fast when Redis is down: callers degrade (throttling lets requests through)
            # instead of hanging a web worker.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # Embedded demo: one process, so a local-memory cache is honest here.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Issue 7 (safety_portal/celery.py has the schedule, queues and retry defaults). Redis delivers a
# task again when its worker has not acknowledged it within the visibility timeout (the worker died):
# keep it above the longest task time limit and the longest retry countdown (capped at 10 minutes).
_visibility_timeout = _int("CELERY_VISIBILITY_TIMEOUT", default=3600)
if _visibility_timeout <= 0:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must be a positive number of seconds.")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility_timeout,
    # How often (seconds) a worker looks for messages left unacknowledged by a dead worker.
    "unacked_restore_interval": _int("CELERY_RESTORE_INTERVAL", default=60),
    "unacked_restore_throttle": 1,
    # A dead broker fails fast instead of holding a web request: the outbox keeps the work.
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True

# --- Sessions and security ------------------------------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = _int("SESSION_IDLE_SECONDS", default=30 * 60)
# The age above is an inactivity timeout: the portal's SessionIdleMiddleware re-saves a signed-in
# session (moving its expiry) at most every SESSION_TOUCH_SECONDS, instead of a write per request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = _int("SESSION_TOUCH_SECONDS", default=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", default=True)
    # A load balancer probes the processes over plain HTTP on the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = _int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # The load balancer terminates TLS and says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# How many proxies (the load balancer, ...) append to X-Forwarded-For in front of the web processes:
# the client address that audit entries record is read that many places from the right.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")

# Portal (issue 5). Login and lockout: axes counts failed passwords per username and per client
# address (the same address the audit log records); after LOGIN_FAILURE_LIMIT failures that username
# or address waits LOGIN_LOCKOUT_MINUTES. The second factor has django-otp's own growing delay.
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "safety_portal.core.audit.middleware.client_ip"
AXES_LOCKOUT_CALLABLE = "safety_portal.portal.views.auth.locked_out"
AXES_ENABLE_ADMIN = False  # the portal's admin site is its own; `manage.py axes_reset` unlocks
AXES_VERBOSE = False
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Safety Portal")
OTP_TOTP_THROTTLE_FACTOR = 1  # seconds, doubled after each failed code
OTP_STATIC_THROTTLE_FACTOR = 1
PORTAL_BACKUP_CODES = 8
# A strict Content-Security-Policy: only the portal's own static files, no inline script or style
# (charts are server-side SVG). Sent on every response that does not set its own.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- REST framework -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["safety_portal.core.api.parsers.LimitedJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "safety_portal.core.api.authentication.BearerTokenAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    # Issue 6: per-client throttling (Redis-backed cache), one JSON error format.
    "DEFAULT_THROTTLE_CLASSES": ["safety_portal.core.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_client": env.str("API_THROTTLE_RATE", default="600/min")},
    "EXCEPTION_HANDLER": "safety_portal.core.api.errors.api_exception_handler",
}
API_MAX_REQUEST_BYTES = env.int("API_MAX_REQUEST_BYTES", default=64 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Safety Portal API",
    "DESCRIPTION": "Internal API of the trust-and-safety back office.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set, so other teams' generated clients get stable enum types.
    "ENUM_NAME_OVERRIDES": {
        "AudienceEnum": "accounts.api.serializers.AUDIENCES",
        "AccountStatusEnum": "accounts.choices.STATUS_CHOICES",
        "BirthdateRequestStatusEnum": "accounts.models.BirthdateChangeRequest.Status",
        "CaseStatusEnum": "moderation.models.Case.Status",
        "DecisionTypeEnum": "moderation.api.serializers.DECISION_TYPES",
        "AppealKindEnum": "moderation.models.Appeal.Kind",
        "AppealStatusEnum": "moderation.models.Appeal.Status",
        "KindEnum": "messaging.models.Thread.Kind",
        "ReportStatusEnum": "moderation.api.reporter_reports.STATUSES",
    },
}

# --- Logging --------------------------------------------------------------------------------------
# JSON lines in production (one object per line: time, level, logger, message, request id, actor
# kind and id; fields named like a birthdate, body or token are redacted, safety_portal.core.logs);
# plain text with the same fields in the demo. LOG_FORMAT=json|plain overrides.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "safety_portal.core.logs.RequestFields"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(actor_kind)s:"
            "%(actor_id)s] %(message)s"
        },
        "json": {
            "()": "safety_portal.core.logs.JsonLines",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s %(actor_kind)s %(actor_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601 in UTC
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Eager mode (the embedded demo) would log every task run; workers log their own.
    "loggers": {"celery.app.trace": {"level": "WARNING" if not REDIS_URL else "INFO"}},
}

# --- Domain settings ------------------------------------------------------------------------------
# Issue 13 (docs/decisions.md D23): an audited write inserts its entry without the chain-head lock
# and the chainer (`audit.link_chain`, on beat every 5 s) links it after it commits, so audited
# writes no longer queue behind each other. PostgreSQL only (the SQLite demo always links in the
# writer); AUDIT_CHAIN_DEFERRED=false brings back the writer that links its own entry (D3).
AUDIT_CHAIN_DEFERRED = env.bool("AUDIT_CHAIN_DEFERRED", default=True)
# An entry left unlinked longer than this is reported as late by verify_audit_log (and logged).
AUDIT_CHAIN_LAG_ALERT = env.float("AUDIT_CHAIN_LAG_ALERT", default=60.0)
# Issue 14.2: Prometheus scrapes /metrics with this Bearer token; empty refuses every scrape
# outside the demo (DEBUG).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Where the hourly audit-chain anchor is written (issue 7); kept outside the database on purpose.
AUDIT_ANCHOR_FILE = env.str(
    "AUDIT_ANCHOR_FILE", default=str(BASE_DIR / "var" / "audit-anchors.log")
)
# The authoritative anchor store when REDIS_URL is set (docs/decisions.md D6).
AUDIT_ANCHOR_STREAM = env.str("AUDIT_ANCHOR_STREAM", default="audit:anchors")
# Issue 14.5 (D32): where `archive_audit_partition` writes an old month of the log before it is
# detached, and where `verify_audit_log` reads it back. In a fleet this is shared storage that
# every host that verifies can read (a mounted bucket), not a host's own disk.
AUDIT_ARCHIVE_DIR = env.str("AUDIT_ARCHIVE_DIR", default=str(BASE_DIR / "var" / "audit-archives"))

# Issue 14.5 (D32): the daily job keeps this many months of partitions ready after the current one
# (audit log, messages), so a job that stops still leaves months before rows fall into DEFAULT.
PARTITION_MONTHS_AHEAD = env.int("PARTITION_MONTHS_AHEAD", default=3)
if not 1 <= PARTITION_MONTHS_AHEAD <= 24:
    raise ImproperlyConfigured(
        f"PARTITION_MONTHS_AHEAD must be between 1 and 24, not {PARTITION_MONTHS_AHEAD}"
    )

# --- DSA Transparency Database (issue 12.4) -------------------------------------------------------
# Where statements of reasons are submitted (art. 24(5)): the database's base URL, e.g.
# https://transparency.dsa.ec.europa.eu (or the sandbox the Commission gives at onboarding); the
# client posts to <URL>/api/v1/statements. Empty (the default) turns submission off: the job does
# nothing and says so. The token is the one generated in the database's user profile.
TRANSPARENCY_DB_URL = env.str("TRANSPARENCY_DB_URL", default="").strip().rstrip("/")
if TRANSPARENCY_DB_URL and urlsplit(TRANSPARENCY_DB_URL).scheme not in ("https", "http"):
    raise ImproperlyConfigured(
        f"TRANSPARENCY_DB_URL={TRANSPARENCY_DB_URL!r} is not an http(s) URL; leave it empty to "
        "turn submission off."
    )
TRANSPARENCY_DB_TOKEN = env.str("TRANSPARENCY_DB_TOKEN", default="")
if TRANSPARENCY_DB_URL and not TRANSPARENCY_DB_TOKEN:
    raise ImproperlyConfigured("TRANSPARENCY_DB_URL is set but TRANSPARENCY_DB_TOKEN is empty.")
TRANSPARENCY_DB_TIMEOUT_SECONDS = _int("TRANSPARENCY_DB_TIMEOUT_SECONDS", default=30)
if TRANSPARENCY_DB_TIMEOUT_SECONDS < 1:
    raise ImproperlyConfigured("TRANSPARENCY_DB_TIMEOUT_SECONDS must be at least 1.")
