"""Without Chromium the browser tests say how to install it; under CI=true they fail instead."""

from __future__ import annotations

import pytest

from tests.browser import conftest


def test_missing_chromium_skips_with_the_install_instruction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"apt-get install -y chromium"):
        conftest.require_chromium()


def test_missing_chromium_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"missing under CI.*apt-get install -y chromium"):
        conftest.require_chromium()


def test_present_chromium_passes(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    browser = tmp_path / "chromium"
    browser.write_text("")
    monkeypatch.setattr(conftest, "CHROMIUM", str(browser))
    monkeypatch.setenv("CI", "true")
    assert conftest.require_chromium() is None
