"""A bad setting stops every entry point with one line: the variable, the value (never a secret), the form."""

import argparse
from collections.abc import Iterator

import pytest

from boundaryline.cli import build_parser
from boundaryline.cli import main as cli
from boundaryline.settings import get_settings
from service.app import create_app


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()  # the process-wide settings are cached: read the patched environment
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("value", "needles"),
    [
        ("pestering=0.6", ["BOUNDARYLINE_THRESHOLDS='pestering=0.6'", "JSON"]),
        ('{"pestering": 2}', ["BOUNDARYLINE_THRESHOLDS=", "(0, 1]"]),
    ],
)
def test_a_bad_threshold_setting_is_one_line_naming_the_variable(
    value: str,
    needles: list[str],
    fresh_settings: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BOUNDARYLINE_THRESHOLDS", value)
    assert cli(["models", "check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert all(needle in err for needle in needles), err


@pytest.mark.parametrize("key", ["", "short-key"])
def test_the_service_refuses_to_start_with_an_empty_or_short_key(
    key: str, fresh_settings: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOUNDARYLINE_API_KEY", key)
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "BOUNDARYLINE_API_KEY=(hidden)" in err and "16" in err, err
    if key:
        assert key not in err  # the key itself is never printed


def _options(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += [(f"{name} {where}", a) for where, a in _options(sub)]
        elif not isinstance(action, argparse._HelpAction):
            found.append((action.dest, action))
    return found


def test_every_command_line_option_says_what_it_does() -> None:
    missing = [where for where, action in _options(build_parser()) if not (action.help or "").strip()]
    assert not missing, f"options without help text: {missing}"
