"""Settings as operators write them: list syntax, unknown variables, refusals in one line."""

from typing import get_args, get_origin

import pytest
from pydantic import ValidationError

from club.enums import Role
from club.settings import (
    REDIS_URL_FORM,
    Settings,
    describe_invalid_settings,
    unknown_variables,
)

# Every list setting, comma-separated and as JSON: both give the same value.
LIST_SETTINGS = {
    "cors_origins": (
        "https://a.example, https://b.example",
        '["https://a.example", "https://b.example"]',
        ("https://a.example", "https://b.example"),
    ),
    "introspection_roles": ("ADMIN,PARTNER", '["ADMIN","PARTNER"]', {Role.ADMIN, Role.PARTNER}),
    "trusted_documents_roles": ("PARTNER", '["PARTNER"]', {Role.PARTNER}),
    "gc_thresholds": ("700, 10, 10", "[700, 10, 10]", (700, 10, 10)),
}


def test_every_list_setting_is_covered_here() -> None:
    lists = {
        name
        for name, field in Settings.model_fields.items()
        if get_origin(field.annotation) in (tuple, frozenset, list, set)
        or any(get_origin(a) in (tuple, frozenset, list, set) for a in get_args(field.annotation))
    }
    assert lists == LIST_SETTINGS.keys()


@pytest.mark.parametrize("name", sorted(LIST_SETTINGS))
def test_list_settings_take_commas_and_json(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    comma_separated, json_list, expected = LIST_SETTINGS[name]
    monkeypatch.setenv("CLUBJUSTICE_TRUSTED_DOCUMENTS_FILE", "manifest.json")
    values = []
    for text in (comma_separated, json_list):
        monkeypatch.setenv(f"CLUBJUSTICE_{name.upper()}", text)
        values.append(getattr(Settings(), name))
    assert values == [expected, expected]


def test_an_empty_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUBJUSTICE_CORS_ORIGINS", "")
    assert Settings().cors_origins == ()
    monkeypatch.setenv("CLUBJUSTICE_CORS_ORIGINS", "[]")
    assert Settings().cors_origins == ()


REFUSALS = {
    "CLUBJUSTICE_PORT=eighty": "CLUBJUSTICE_PORT='eighty' is invalid: it should be a valid "
    "integer; expected a whole number, at least 1 and at most 65535",
    "CLUBJUSTICE_WORKERS=0": "CLUBJUSTICE_WORKERS='0' is invalid: it should be greater than or "
    "equal to 1; expected a whole number, at least 1",
    "CLUBJUSTICE_EXECUTION_TIMEOUT=0": "CLUBJUSTICE_EXECUTION_TIMEOUT='0' is invalid: it should "
    "be greater than 0; expected a number, above 0",
    "CLUBJUSTICE_GRAPHIQL=maybe": "CLUBJUSTICE_GRAPHIQL='maybe' is invalid: it should be a valid "
    "boolean; expected true or false",
    "CLUBJUSTICE_LOG_FORMAT=xml": "CLUBJUSTICE_LOG_FORMAT='xml' is invalid: it should be 'text' "
    "or 'json'; expected one of text, json",
    "CLUBJUSTICE_LOG_LEVEL=loud": "CLUBJUSTICE_LOG_LEVEL='loud' is invalid: unknown logging "
    "level 'loud'; expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
    "CLUBJUSTICE_CORS_ORIGINS=[https://a.example": "CLUBJUSTICE_CORS_ORIGINS='[https://a.example'"
    " is invalid: not a JSON list (Expecting value); expected values, comma-separated or as a "
    "JSON list",
    "CLUBJUSTICE_INTROSPECTION_ROLES=ADMIN,nobody": "CLUBJUSTICE_INTROSPECTION_ROLES: the item "
    "'nobody' is invalid: it should be 'ADMIN', 'ORGANIZATION', 'PARTNER' or 'ANONYMOUS'; expected "
    "roles among ADMIN, ORGANIZATION, PARTNER, ANONYMOUS, comma-separated or as a JSON list",
    "CLUBJUSTICE_GC_THRESHOLDS=700,10": 'CLUBJUSTICE_GC_THRESHOLDS=\'["700", "10"]\' is invalid: '
    "it has too few items; expected 3 whole numbers, comma-separated or as a JSON list",
    # The URL is never echoed: it may hold a password.
    "CLUBJUSTICE_DATABASE_URL=oracle://scott:tiger@db/club": "CLUBJUSTICE_DATABASE_URL is "
    "invalid: unknown database driver 'oracle'; expected postgresql://user:password@host:5432/"
    "name or sqlite:///path/to/file.db",
    "CLUBJUSTICE_DATABASE_URL=club": "CLUBJUSTICE_DATABASE_URL is invalid: not a database URL; "
    "expected postgresql://user:password@host:5432/name or sqlite:///path/to/file.db",
    "CLUBJUSTICE_REDIS_URL=http://:secret@cache:6379": "CLUBJUSTICE_REDIS_URL is invalid: "
    "not a Redis URL; expected redis://[:password@]host:6379/0, rediss://… (TLS) or "
    "unix:///path/to/redis.sock",
    # Refused before anything runs (a migration included), not at the first request.
    "CLUBJUSTICE_REDIS_URL=redis://:secret@cache:notaport/0": "CLUBJUSTICE_REDIS_URL is "
    f"invalid: its port should be a number from 1 to 65535; expected {REDIS_URL_FORM}",
    "CLUBJUSTICE_REDIS_URL=redis://cache:99999/0": "CLUBJUSTICE_REDIS_URL is invalid: its port "
    f"should be a number from 1 to 65535; expected {REDIS_URL_FORM}",
    "CLUBJUSTICE_REDIS_URL=redis://cache:0/0": "CLUBJUSTICE_REDIS_URL is invalid: its port "
    f"should be a number from 1 to 65535; expected {REDIS_URL_FORM}",
    "CLUBJUSTICE_REDIS_URL=redis://cache/abc": "CLUBJUSTICE_REDIS_URL is invalid: its database "
    f"(the path after the host) should be a number; expected {REDIS_URL_FORM}",
    "CLUBJUSTICE_REDIS_URL=unix:///run/redis.sock?db=abc": "CLUBJUSTICE_REDIS_URL is invalid: "
    f"its option db has an invalid value; expected {REDIS_URL_FORM}",
    "CLUBJUSTICE_REDIS_TIMEOUT=0": "CLUBJUSTICE_REDIS_TIMEOUT='0' is invalid: it should be "
    "greater than 0; expected a number, above 0",
    "CLUBJUSTICE_LIST_SIZE_REFRESH_SECONDS=5": "CLUBJUSTICE_LIST_SIZE_REFRESH_SECONDS='5' is "
    "invalid: must be 0 (off) or at least 10 seconds; expected a number",
    "CLUBJUSTICE_LIST_SIZE_REFRESH_SECONDS=-1": "CLUBJUSTICE_LIST_SIZE_REFRESH_SECONDS='-1' is "
    "invalid: must be 0 (off) or at least 10 seconds; expected a number",
    "CLUBJUSTICE_DEFAULT_PAGE_SIZE=500": "CLUBJUSTICE_DEFAULT_PAGE_SIZE (500) cannot exceed "
    "CLUBJUSTICE_MAX_PAGE_SIZE (100)",
}


@pytest.mark.parametrize("assignment", sorted(REFUSALS))
def test_a_refused_value_is_explained_in_one_line(
    assignment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, value = assignment.split("=", 1)
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert describe_invalid_settings(refused.value) == REFUSALS[assignment]


def test_redis_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    for url in (
        "redis://cache:6379/0",
        "rediss://:pw@cache:6380/1",
        "redis://cache",
        "redis://cache/",
        "redis://cache/x?db=2",  # the query's db wins, as redis-py reads it
        "unix:///run/redis.sock",
        "unix:///run/redis.sock?db=1&password=pw",
    ):
        monkeypatch.setenv("CLUBJUSTICE_REDIS_URL", url)
        assert Settings().redis_url == url
    # Empty is unset (a compose file or a shell that blanks it): each process limits alone.
    for blank in ("", "  "):
        monkeypatch.setenv("CLUBJUSTICE_REDIS_URL", blank)
        assert Settings().redis_url is None


@pytest.fixture
def redis_url_in_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUBJUSTICE_REDIS_URL", "redis://127.0.0.1:1/0")


def test_the_settings_fixture_ignores_a_redis_url_in_the_shell(
    redis_url_in_the_shell: None, settings: Settings
) -> None:
    """Tests that want Redis ask for it (the `redis_url` fixture); the others limit per
    process whatever the developer's shell holds (the shell's URL is set first)."""
    assert settings.redis_url is None


def test_unknown_variables_name_the_closest_setting() -> None:
    environ = {
        "CLUBJUSTICE_INVITATON_QUOTA": "3",
        "clubjustice_max_dept": "5",  # settings are read case-insensitively
        "CLUBJUSTICE_COLOUR": "blue",
        "CLUBJUSTICE_PORT": "8000",
        "CLUBJUSTICE_TEST_DATABASE_URL": "postgresql://…",  # the test suite's own
        "CLUBJUSTICE_TEST_REDIS_URL": "redis://…",
        "HOME": "/root",
    }
    assert unknown_variables(environ) == [
        "unknown setting CLUBJUSTICE_COLOUR",
        "unknown setting CLUBJUSTICE_INVITATON_QUOTA (did you mean CLUBJUSTICE_INVITATION_QUOTA?)",
        "unknown setting clubjustice_max_dept (did you mean CLUBJUSTICE_MAX_DEPTH?)",
    ]
