"""Shared test helpers: tiny datasets written inline, and the bundled example."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "luzhou-2020"

UNIT_TOML = """[unit]
name = "测试单位"
code = "999001"
year = 2020
format = "sichuan-2020"
kind = "参照公务员法管理的事业单位"
"""

INCOME_CSV = """阶段,资金来源,功能分类科目编码,金额,备注
决算,一般公共预算财政拨款,2080501,1000.00,
决算,一般公共预算财政拨款,2089999,500.00,
"""

SPENDING_CSV = """阶段,资金来源,功能分类科目编码,经济分类科目编码,支出性质,项目名称,金额,备注
决算,一般公共预算财政拨款,2080501,30302,人员经费,,900.00,
决算,一般公共预算财政拨款,2080501,30201,公用经费,,100.00,
决算,一般公共预算财政拨款,2089999,30305,项目支出,生活补贴,500.00,
"""

PROJECTS_CSV = """项目名称,项目编码,项目类别,备注
生活补贴,,代发补贴,
"""


def write_dataset(folder: Path, **files: str) -> Path:
    """A dataset folder from inline texts; keys are file stems (spending=..., unit=...)."""
    contents = {
        "unit": UNIT_TOML,
        "income": INCOME_CSV,
        "spending": SPENDING_CSV,
        "projects": PROJECTS_CSV,
        **files,
    }
    folder.mkdir(parents=True, exist_ok=True)
    for stem, text in contents.items():
        if text is None:
            continue
        name = "unit.toml" if stem == "unit" else f"{stem}.csv"
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(autouse=True, scope="session")
def _own_data_dir(tmp_path_factory: pytest.TempPathFactory):
    """Code tables a user imported on this machine must not change what the tests see."""
    if os.environ.get("JUESUAN_DATA_DIR"):  # the web tests set their own
        yield
        return
    os.environ["JUESUAN_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    yield
    del os.environ["JUESUAN_DATA_DIR"]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "tiny")


@pytest.fixture(scope="session")
def example():
    from juesuan.ledger.load import load

    if not EXAMPLE.exists():
        pytest.skip("examples/luzhou-2020 is not present")
    dataset, issues = load(EXAMPLE)
    assert dataset is not None, [str(i) for i in issues]
    return dataset


PUBLISHED = Path(__file__).parent / "audit_fixtures" / "published_contradictions.json"


def published_copy(folder: Path) -> Path:
    """The example with the published document's own contradictions put back (the example
    corrects them; its README lists each): for tests that must see them flagged."""
    import json
    import shutil

    shutil.copytree(EXAMPLE, folder)
    for name, published, corrected in json.loads(PUBLISHED.read_text("utf-8"))["fixes"]:
        path = folder / name
        text = path.read_text("utf-8")
        if corrected:
            assert corrected in text, (name, corrected)
            text = text.replace(corrected, published)
        path.write_text(text, "utf-8")
    return folder


@pytest.fixture(scope="session")
def published(tmp_path_factory):
    """The example as the reference case published it, contradictions included, loaded."""
    from juesuan.ledger.load import load

    if not EXAMPLE.exists():
        pytest.skip("examples/luzhou-2020 is not present")
    dataset, issues = load(published_copy(tmp_path_factory.mktemp("published") / "luzhou"))
    assert dataset is not None, [str(i) for i in issues]
    return dataset
