"""The keys duplicates are found by (tinycrm.identity)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinycrm import config
from tinycrm.errors import InvalidInput
from tinycrm.identity import email_match_key, name_match_key, name_similarity, phone_match_key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ann@Example.com", "ann@example.com"),
        (" ann@example.com ", "ann@example.com"),
        ("ａｎｎ@example.com", "ann@example.com"),  # full-width
        ("ann+crm@gmail.com", "ann@gmail.com"),
        ("a.n.n@gmail.com", "ann@gmail.com"),
        ("Ann+news@googlemail.com", "ann@gmail.com"),
        ("ann+x@outlook.com", "ann@outlook.com"),
        ("ann+x@icloud.com", "ann@icloud.com"),
    ],
)
def test_one_mailbox_one_key(a: str, b: str) -> None:
    assert email_match_key(a) == email_match_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ann+x@example.com", "ann@example.com"),  # unknown provider: the tag may matter
        ("a.nn@example.com", "ann@example.com"),  # dots matter outside Gmail
        ("ann@gmail.com", "anne@gmail.com"),
    ],
)
def test_different_mailboxes_differ(a: str, b: str) -> None:
    assert email_match_key(a) != email_match_key(b)


def test_not_an_email_is_refused() -> None:
    with pytest.raises(ValueError):
        email_match_key("not an email")


@pytest.mark.parametrize(
    ("phone", "region"),
    [
        ("+44 20 7946 0958", None),
        ("+44 (0)20 7946 0958", None),
        ("020 7946 0958", "GB"),
        ("0044 20 7946 0958", "GB"),
        ("+44-20-7946-0958", "US"),
        ("＋４４ ２０ ７９４６ ０９５８", None),  # full-width digits
    ],
)
def test_phone_spellings_meet_in_e164(phone: str, region: str | None) -> None:
    assert phone_match_key(phone, region) == "+442079460958"


def test_a_national_number_without_a_region_keeps_its_digits() -> None:
    assert phone_match_key("(415) 555-0123", None) == "4155550123"
    assert phone_match_key("(415) 555-0123", "us") == "+14155550123"
    assert phone_match_key("12", "GB") == "12"


@pytest.mark.parametrize(
    "spelling",
    [
        "Alice Wong",
        "alice wong",
        "ALICE\u00a0WONG",
        "  Alice   Wong ",
        "Wong, Alice",
        "Ａｌｉｃｅ Wong",
    ],
)
def test_name_spellings_share_a_key(spelling: str) -> None:
    assert name_match_key(spelling) == "alice wong"


def test_accents_fold_and_near_misses_score_high() -> None:
    assert name_match_key("José Núñez") == name_match_key("jose nunez")
    assert name_similarity("Jon Smith", "John Smith") >= 90
    assert name_similarity("Alice Wong", "Bob Stone") < 50


def test_phone_region_comes_from_settings_else_the_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tmp_path / "settings.toml"
    monkeypatch.setenv("TINYCRM_SETTINGS", str(settings))
    for var in ("LC_ALL", "LC_CTYPE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert config.phone_region(config.load_settings()) == "GB"
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert config.phone_region(config.load_settings()) is None
    settings.write_text('phone_region = "us"\n')
    assert config.phone_region(config.load_settings()) == "US"
    settings.write_text('phone_region = "USA"\n')
    with pytest.raises(InvalidInput, match="phone_region in .* two-letter country code"):
        config.load_settings()
