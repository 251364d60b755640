"""Settings: defaults, validation, and the GitHub token's two environment names."""

from __future__ import annotations

import pytest

from vigil.config import DEFAULT_CATEGORIES, Settings


def test_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.delenv("VIGIL_DATABASE_URL", raising=False)
    settings = Settings(data_dir=tmp_path)  # type: ignore[arg-type]
    assert settings.resolved_database_url == f"sqlite:///{tmp_path}/vigil.db"
    assert settings.categories[: len(DEFAULT_CATEGORIES)] == DEFAULT_CATEGORIES
    assert settings.status_severity["stopped"] == "critical"


@pytest.mark.parametrize("name", ["VIGIL_GITHUB_TOKEN", "GITHUB_TOKEN"])
def test_github_token_from_either_variable(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.delenv("VIGIL_GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv(name, "secret")
    assert Settings().github_token == "secret"


def test_bad_settings_name_the_problem() -> None:
    with pytest.raises(ValueError, match="default_severity must be one of"):
        Settings(default_severity="meh")
    with pytest.raises(ValueError, match=r"status_severity\['stuck'\]"):
        Settings(status_severity={"stuck": "loud"})
