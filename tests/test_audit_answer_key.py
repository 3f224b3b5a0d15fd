"""The audit on the real-document corpus against the hand-made answer key (tests/answer_key):
every 确定 finding is an error the key lists or a finding it calls plainly true."""

from __future__ import annotations

import sys

import pytest
import yaml

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from score_audit import CORPUS, KEY, score

KEYS = sorted(KEY.glob("*.yaml"))


@pytest.mark.parametrize("key_path", KEYS, ids=[k.stem for k in KEYS])
def test_every_certain_finding_on_the_corpus_is_in_the_answer_key(key_path):
    from juesuan.audit import audit

    key = yaml.safe_load(key_path.read_text(encoding="utf-8"))
    document = CORPUS / key["document"]
    if not document.exists():
        pytest.skip(f"{document} is not present (shared/data/real-documents)")
    result = score(key, audit(document).as_dict())
    assert result["certain_wrong"] == 0, result["false_findings"]
