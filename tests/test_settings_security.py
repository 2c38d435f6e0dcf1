"""Production settings pass `check --deploy`; passwords are hashed with Argon2."""

import os
import subprocess
import sys

from relatiebeheer.config import settings as settings_module


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "relatiebeheer.config.production",
        "RELATIEBEHEER_VAR": str(tmp_path),
        "SECRET_KEY": "x" * 10 + "a-long-random-production-secret-key-0123456789abcdefghijklmnop",
        "ALLOWED_HOSTS": "crm.example.nl",
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests in this process
    result = subprocess.run(
        [sys.executable, "-m", "relatiebeheer.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_passwords_are_hashed_with_argon2():
    assert settings_module.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_secret_key_is_generated_once_into_var(tmp_path):
    env = {**os.environ, "RELATIEBEHEER_VAR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    run = lambda: subprocess.run(  # noqa: E731
        [
            sys.executable,
            "-c",
            "import django,os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','relatiebeheer.config.settings'); django.setup(); "
            + code,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    first, second = run(), run()
    assert first == second and len(first) > 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_sqlite_waits_for_writers_instead_of_failing():
    options = settings_module.DATABASES["default"].get("OPTIONS", {})
    if settings_module.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        assert options["transaction_mode"] == "IMMEDIATE"
        assert "journal_mode=WAL" in options["init_command"]
        assert options["timeout"] >= 5
