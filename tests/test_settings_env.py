import pytest

from portal.env import ConfigurationError, env_bool, env_int, env_list, env_url


def test_a_boolean_that_is_not_one_fails_loudly(monkeypatch):
    monkeypatch.setenv("PORTAL_FLAG", "sometimes")

    with pytest.raises(ConfigurationError, match="PORTAL_FLAG='sometimes' is not a boolean"):
        env_bool("PORTAL_FLAG", default=False)


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("0", False), ("", True)])
def test_booleans_read_their_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("PORTAL_FLAG", raw)

    assert env_bool("PORTAL_FLAG", default=True) is expected


def test_a_number_below_its_minimum_fails_loudly(monkeypatch):
    monkeypatch.setenv("PORTAL_N", "-3")

    with pytest.raises(ConfigurationError, match="below the minimum"):
        env_int("PORTAL_N", 5, minimum=0)


def test_a_url_with_the_wrong_scheme_fails_loudly(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://db/portal")

    with pytest.raises(ConfigurationError, match="DATABASE_URL must use one of"):
        env_url("DATABASE_URL", "", schemes={"postgres", "sqlite"})


def test_lists_are_comma_separated_and_trimmed(monkeypatch):
    monkeypatch.setenv("PORTAL_HOSTS", " a.example.edu, b.example.edu ,")

    assert env_list("PORTAL_HOSTS", []) == ["a.example.edu", "b.example.edu"]
