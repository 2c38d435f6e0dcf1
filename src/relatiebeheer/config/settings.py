"""Settings, read from the environment.

The embedded default is SQLite under ``var/``; production sets ``DATABASE_URL`` to
PostgreSQL. See the README's "Configuration" section for every variable.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("RELATIEBEHEER_VAR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into var/secret_key."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = VAR_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
# A writer that skips its audit row, version check, lock or hook raises (see
# common/writers.py); on in the test suite, logged as an error in production.
STRICT_WRITERS = env_bool("STRICT_WRITERS", DEBUG)
# A request or command that writes customer data outside a writer raises (same idea).
STRICT_DOORS = env_bool("STRICT_DOORS", DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "relatiebeheer.users",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_htmx",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "relatiebeheer.audit",
    "relatiebeheer.organisation",
    "relatiebeheer.relations",
    "relatiebeheer.sales",
    "relatiebeheer.value",
    "relatiebeheer.outbox",
    "relatiebeheer.satisfaction",
    "relatiebeheer.loyalty",
    "relatiebeheer.imports",
    "relatiebeheer.reports",
    "relatiebeheer.privacy",
    "relatiebeheer.api",
    "relatiebeheer.web",
    "relatiebeheer.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "relatiebeheer.web.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "relatiebeheer.common.bodylimit.BodyLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "relatiebeheer.audit.middleware.AuditChannelMiddleware",
    "relatiebeheer.web.middleware.DomainErrorMiddleware",
    "axes.middleware.AxesMiddleware",
    "relatiebeheer.users.middleware.LoginThrottleMiddleware",
    "csp.middleware.CSPMiddleware",
    "relatiebeheer.users.middleware.SessionLifetimeMiddleware",
]

ROOT_URLCONF = "relatiebeheer.config.urls"
WSGI_APPLICATION = "relatiebeheer.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "relatiebeheer.web.nav.nav",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "relatiebeheer.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": SQLITE_PATH}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on during a write; IMMEDIATE transactions take the write lock
    # at BEGIN, so concurrent writers queue on the busy timeout instead of failing
    # half-way with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY;"
            ),
        }
    )
    # Keep each server thread's connection: opening one (file, WAL index, schema, the
    # PRAGMAs above) costs more than a small request itself.
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A file, not an in-memory database, so threads in tests share one real database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_relatiebeheer.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

# --- Authentication -------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"

# Lockout after 5 failed attempts within 30 minutes, kept in the database (django-axes),
# per username *and* address: a stranger elsewhere cannot lock anybody out, and the right
# password works at once from an address that did not fail.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "relatiebeheer.users.throttle.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "relatiebeheer.web.views.auth.lockout_response"
AXES_VERBOSE = False
# An address that fails for many usernames is slowed down, never locked (users/throttle.py):
# after LOGIN_ADDRESS_FREE_FAILURES failures it waits 1, 2, 4 … seconds per failure, at most
# LOGIN_ADDRESS_MAX_DELAY; LOGIN_ADDRESS_FORGET_MINUTES without a failure and it starts afresh.
LOGIN_ADDRESS_FREE_FAILURES = int(os.environ.get("LOGIN_ADDRESS_FREE_FAILURES", 10))
LOGIN_ADDRESS_MAX_DELAY = int(os.environ.get("LOGIN_ADDRESS_MAX_DELAY", 60))
LOGIN_ADDRESS_FORGET_MINUTES = int(os.environ.get("LOGIN_ADDRESS_FORGET_MINUTES", 30))
# Login entries of the audit log and django-axes' records hold addresses: removed after this.
LOGIN_RECORD_RETENTION_DAYS = int(os.environ.get("LOGIN_RECORD_RETENTION_DAYS", 90))

# Sessions end after SESSION_IDLE_MINUTES without a request (the cookie is renewed on
# every request) and SESSION_MAX_HOURS after login whatever happens ("absolute lifetime").
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", 60))
SESSION_MAX_HOURS = int(os.environ.get("SESSION_MAX_HOURS", 12))
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True

# Uploaded import files (var/imports/<job>/source.csv) are deleted once imported, and
# any kept upload (checked, not imported, failed; the refused rows) after this many days.
IMPORT_UPLOAD_RETENTION_DAYS = int(os.environ.get("IMPORT_UPLOAD_RETENTION_DAYS", 30))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Internationalisation --------------------------------------------------------------
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "relatiebeheer_language"

# --- Static files ----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email -----------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "relatiebeheer@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where people reach the app: links in mails (answer pages, unsubscribe) start with it.
PUBLIC_URL = os.environ.get("PUBLIC_URL", "").strip() or "http://127.0.0.1:8000"

# --- Background tasks ------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# A failed task declared idempotent runs again, at most TASK_MAX_ATTEMPTS times in all,
# after TASK_RETRY_DELAY seconds doubled per attempt (at most TASK_RETRY_DELAY_MAX).
TASK_MAX_ATTEMPTS = int(os.environ.get("TASK_MAX_ATTEMPTS", "3"))
TASK_RETRY_DELAY = float(os.environ.get("TASK_RETRY_DELAY", "10"))
TASK_RETRY_DELAY_MAX = float(os.environ.get("TASK_RETRY_DELAY_MAX", "3600"))
# The dashboard warns administrators when no worker was seen for this many seconds.
WORKER_SILENT_AFTER = int(os.environ.get("WORKER_SILENT_AFTER", "120"))

# --- Security (production values when DEBUG is off) -------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)

# Content-Security-Policy (django-csp): scripts and styles only from our own origin, no
# inline scripts or event handlers (htmx runs without eval; app.js draws the charts from
# JSON data blocks), nonces for the rare inline script a third-party page needs.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": ["'unsafe-inline'"],  # style="" attributes (Bootstrap's JS, SVG charts)
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# --- Relatiebeheer ---------------------------------------------------------------------
# Reads a full metric recompute runs at once (default: the number of cores, at most 4;
# 1 reads one after another). See value.reads.parallel_reads.
RECOMPUTE_READ_WORKERS = int(os.environ.get("RECOMPUTE_READ_WORKERS", "0") or 0) or None

RELATIEBEHEER = {
    "CLI_USERNAME": "cli",
}

# Browser features no page uses, switched off for every response (web.headers). Empty: none.
PERMISSIONS_POLICY = os.environ.get(
    "PERMISSIONS_POLICY",
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=(), "
    "xr-spatial-tracking=()",
)

# The largest file ``POST /api/v1/imports`` takes (JSON, multipart or a streamed CSV body);
# anything larger is answered 413 before it is read (relatiebeheer.common.bodylimit).
IMPORT_UPLOAD_MAX_BYTES = int(float(os.environ.get("IMPORT_UPLOAD_MAX_MB", "50") or 50) * 1024**2)

FORMAT_MODULE_PATH = ["relatiebeheer.formats"]
