"""Django settings, every deployment choice read from the environment.

Defaults make a single machine work with nothing configured: SQLite and uploaded/generated files
under the data directory, background jobs in a thread pool inside the web process. Set
`JUESUAN_DATABASE_URL` (or `DATABASE_URL`) for PostgreSQL and `JUESUAN_BROKER_URL` for Celery
workers; see docs.md beside this file for every variable.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

PACKAGE_DIR = Path(__file__).resolve().parent


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _flag(name: str, default: bool = False) -> bool:
    value = _env(name)
    if not value:
        return default
    return value.lower() in ("1", "true", "yes", "on")


def _int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value else default


def default_data_dir() -> Path:
    base = _env("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "juesuan"


DATA_DIR = Path(_env("JUESUAN_DATA_DIR") or default_data_dir()).expanduser().resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """JUESUAN_SECRET_KEY, or a key made once and kept (mode 0600) in the data directory."""
    given = _env("JUESUAN_SECRET_KEY")
    if given:
        return given
    path = DATA_DIR / "secret_key"
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def database_from_url(url: str) -> dict:
    """A Django DATABASES entry from postgres://user:pass@host:port/name?sslmode=… or sqlite:///path.

    Parsed here (a few lines) rather than with another dependency.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("postgres", "postgresql", "pgsql", "postgresql+psycopg"):
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        # Statements run through a server-binding cursor are prepared at their first run on a
        # connection: only web/sql.py's, run on every request (the ORM's cursors bind on the
        # client, and psycopg never prepares those). Django's default (None) prepares nothing.
        # `?prepare_threshold=none` prepares nothing (a pooler that cannot keep them).
        threshold = options.get("prepare_threshold", "0").strip().lower()
        if threshold != "none" and not threshold.isdigit():
            raise ValueError(
                f"数据库地址中的 prepare_threshold 应为 0 或正整数，或 none（不预备语句）：{threshold}"
            )
        options["prepare_threshold"] = None if threshold == "none" else int(threshold)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "postgres",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    if scheme == "sqlite":
        # sqlite:////absolute/path.sqlite3 or sqlite:///relative/path.sqlite3 (SQLAlchemy's form)
        path = unquote(parts.netloc + parts.path)
        path = path[1:] if path.startswith("/") else path
        return _sqlite(Path(path) if path and path != ":memory:" else Path(":memory:"))
    raise ValueError(f"不支持的数据库地址：{url}（可用 postgres://… 或 sqlite:///…）")


def _sqlite(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # Writers queue instead of failing: jobs write progress while pages write too.
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
    }


SECRET_KEY = _secret_key()
DEBUG = _flag("JUESUAN_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in (_env("JUESUAN_ALLOWED_HOSTS") or "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o for o in _env("JUESUAN_CSRF_TRUSTED_ORIGINS").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "juesuan.web.accounts",
    "juesuan.web.audit",
    "juesuan.web.workplace",
    "juesuan.web.disbursement",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "juesuan.web.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "juesuan.web.middleware.SessionRefreshMiddleware",
    "django.middleware.common.CommonMiddleware",
    "juesuan.web.uploads.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "juesuan.web.urls"
WSGI_APPLICATION = "juesuan.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "juesuan.web.workplace.context.navigation",
                "juesuan.web.csrf.context",
            ],
        },
    }
]

_database_url = _env("JUESUAN_DATABASE_URL") or _env("DATABASE_URL")
DATABASES = {
    "default": database_from_url(_database_url)
    if _database_url
    else _sqlite(DATA_DIR / "juesuan.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Django's model backend and database sessions, each reading its row by precomposed SQL
# (accounts/sessions.py): they run on every request.
AUTHENTICATION_BACKENDS = ["juesuan.web.accounts.sessions.UserBackend"]
SESSION_ENGINE = "juesuan.web.accounts.sessions"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# PBKDF2 (Django's default); Argon2 first when argon2-cffi happens to be installed.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
try:  # pragma: no cover - depends on the installation
    import argon2  # noqa: F401

    PASSWORD_HASHERS.insert(0, "django.contrib.auth.hashers.Argon2PasswordHasher")
except ImportError:
    pass
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions end after JUESUAN_SESSION_IDLE_MINUTES without a request, and with the browser. The
# idle deadline moves forward at most once per SESSION_REFRESH_SECONDS (middleware.py) instead
# of writing the session row on every request.
SESSION_IDLE_MINUTES = _int("JUESUAN_SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = min(60, SESSION_COOKIE_AGE // 10)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_NAME = "juesuan_session"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_NAME = "juesuan_csrftoken"
CSRF_FAILURE_VIEW = "juesuan.web.accounts.views.csrf_failure"
HTTPS = _flag("JUESUAN_HTTPS")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
TRUST_X_FORWARDED_FOR = _flag("JUESUAN_TRUST_X_FORWARDED_FOR")
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Login throttling: after LOGIN_MAX_FAILURES failures for one username from one address within
# LOGIN_LOCK_MINUTES, that pair is locked until LOGIN_LOCK_MINUTES after the last failure; after
# LOGIN_MAX_FAILURES_PER_ADDRESS failures from one address, whatever the usernames, the address
# is. (Behind a proxy, JUESUAN_TRUST_X_FORWARDED_FOR gives each client its own address.)
LOGIN_MAX_FAILURES = _int("JUESUAN_LOGIN_MAX_FAILURES", 5)
LOGIN_MAX_FAILURES_PER_ADDRESS = _int("JUESUAN_LOGIN_MAX_FAILURES_PER_ADDRESS", 10)
LOGIN_LOCK_MINUTES = _int("JUESUAN_LOGIN_LOCK_MINUTES", 15)

# What depends only on an immutable dataset version (rendered table grids, check results, the
# generated 情况说明) is cached under keys naming the version and its SHA-256, so a new version
# never sees an old entry. Local memory per server process by default (no service needed);
# JUESUAN_CACHE_URL=redis://host:6379/1 shares one cache among processes and machines.
CACHE_URL = _env("JUESUAN_CACHE_URL")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": "juesuan",
        "TIMEOUT": 24 * 3600,
    }
    if CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "juesuan",
        "TIMEOUT": 24 * 3600,
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
}

# `juesuan serve`: server processes (several need gunicorn, which runs on Linux and macOS) and
# threads in each. The default is one process per core, at least two.
WEB_WORKERS = _int("JUESUAN_WEB_WORKERS", 0)  # 0: decided at start from the core count
# One thread per process by default: the pages are CPU-bound Python, and threads in one process
# take turns on its interpreter lock — bench/web_load.py's tail latency is best this way. Raise
# it where uploads arrive over slow links and would hold a process while they trickle in.
WEB_THREADS = _int("JUESUAN_WEB_THREADS", 1)

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = _env("JUESUAN_TIME_ZONE") or "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True  # serve from the package itself; no collectstatic step needed
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = Path(_env("JUESUAN_MEDIA_ROOT") or DATA_DIR / "files").expanduser().resolve()
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # the form fields besides files
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # a larger file goes to a temporary file
# The largest upload (all files of one request together), refused while it arrives (uploads.py).
MAX_UPLOAD_MB = _int("JUESUAN_MAX_UPLOAD_MB", 50)
FILE_UPLOAD_HANDLERS = [
    "juesuan.web.uploads.SizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Background jobs: "thread" (default: a pool inside the web process), "sync" (run at once, in
# the request: tests), or "celery" (chosen automatically when a broker URL is set).
BROKER_URL = _env("JUESUAN_BROKER_URL")
JOBS_MODE = _env("JUESUAN_JOBS_MODE") or ("celery" if BROKER_URL else "thread")
JOBS_THREADS = _int("JUESUAN_JOBS_THREADS", 2)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "juesuan": {"handlers": ["console"], "level": "INFO"},
        "django": {"handlers": ["console"], "level": "WARNING"},
    },
}
