import pytest

from portal.env import ConfigurationError, env_bool, env_float, env_int, env_list, env_url


def test_a_boolean_that_is_not_one_fails_loudly(monkeypatch):
    monkeypatch.setenv("PORTAL_FLAG", "sometimes")

    with pytest.raises(ConfigurationError, match="PORTAL_FLAG: 'sometimes' is not a boolean"):
        env_bool("PORTAL_FLAG", default=False)


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("0", False), ("", True)])
def test_booleans_read_their_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("PORTAL_FLAG", raw)

    assert env_bool("PORTAL_FLAG", default=True) is expected


@pytest.mark.parametrize("raw", ["-3", "100001"])
def test_a_number_outside_its_range_fails_loudly(monkeypatch, raw):
    monkeypatch.setenv("PORTAL_N", raw)

    with pytest.raises(ConfigurationError, match=r"PORTAL_N: -?\d+ is not between 0 and 100000"):
        env_int("PORTAL_N", 5, minimum=0, maximum=100000)


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "NaN"])
def test_a_timeout_that_is_not_finite_fails_loudly(monkeypatch, raw):
    monkeypatch.setenv("PORTAL_T", raw)

    with pytest.raises(ConfigurationError, match="PORTAL_T: "):
        env_float("PORTAL_T", 5.0, minimum=0.1)


def test_a_url_with_the_wrong_scheme_fails_loudly(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://db/portal")

    with pytest.raises(ConfigurationError, match="DATABASE_URL: 'mysql://db/portal' must use"):
        env_url("DATABASE_URL", "", schemes={"postgres", "sqlite"})


def test_a_url_error_never_shows_its_password(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://portal:hunter2@db:99999/portal")

    with pytest.raises(ConfigurationError) as raised:
        env_url("DATABASE_URL", "", schemes={"postgres"})
    assert "hunter2" not in str(raised.value)
    assert "postgres://portal:***@db:99999/portal" in str(raised.value)


def test_lists_are_comma_separated_and_trimmed(monkeypatch):
    monkeypatch.setenv("PORTAL_HOSTS", " a.example.edu, b.example.edu ,")

    assert env_list("PORTAL_HOSTS", []) == ["a.example.edu", "b.example.edu"]


def test_a_list_of_nothing_fails_instead_of_meaning_empty(monkeypatch):
    monkeypatch.setenv("PORTAL_HOSTS", " , ")

    with pytest.raises(ConfigurationError, match="PORTAL_HOSTS: ',' lists nothing"):
        env_list("PORTAL_HOSTS", ["default.example.edu"])


def test_the_one_argument_form_still_names_the_variable():
    error = ConfigurationError("PORTAL_X must be at most 5\n(see README)")
    assert (error.variable, str(error)) == ("PORTAL_X", "PORTAL_X: must be at most 5 (see README)")
