"""A font's character map, kept on disk between runs."""

import shutil

import pytest

from juesuan import fonts


@pytest.fixture
def kept(tmp_path, monkeypatch):
    folder = tmp_path / "kept"
    folder.mkdir(mode=0o700)
    monkeypatch.setattr(fonts, "_keeping_folder", lambda: folder)
    fonts.coverage.cache_clear()
    yield folder
    fonts.coverage.cache_clear()


def test_a_kept_coverage_is_the_font_s_own(kept):
    font = fonts.BUNDLED["sans"]
    first = fonts.coverage(font)
    assert first == fonts._read_coverage(font) and len(first) > 7000
    assert len(list(kept.glob("*.coverage"))) == 1
    fonts.coverage.cache_clear()
    assert fonts.coverage(font) == first


def test_a_changed_font_is_read_again(kept, tmp_path):
    font = tmp_path / "font.otf"
    shutil.copy(fonts.BUNDLED["sans"], font)
    assert fonts.coverage(font) == fonts._read_coverage(fonts.BUNDLED["sans"])
    shutil.copy(fonts.BUNDLED["serif"], font)  # another file in its place
    fonts.coverage.cache_clear()
    assert fonts.coverage(font) == fonts._read_coverage(fonts.BUNDLED["serif"])
    assert len(list(kept.glob("*.coverage"))) == 2


def test_a_damaged_kept_coverage_is_not_used(kept):
    font = fonts.BUNDLED["serif"]
    whole = fonts.coverage(font)
    (entry,) = kept.glob("*.coverage")
    entry.write_bytes(entry.read_bytes()[:-3])
    fonts.coverage.cache_clear()
    assert fonts.coverage(font) == whole


def test_nothing_is_kept_for_an_unreadable_font(kept, tmp_path):
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    assert fonts.coverage(broken) == frozenset()
    assert not list(kept.glob("*.coverage"))
