"""The checkov skip list is the one reviewed list, and every skip says why."""

import re

import yaml

from tfconfig import INFRA

CONFIG = INFRA / "checkov.yaml"


def test_checkov_runs_offline_on_terraform():
    config = yaml.safe_load(CONFIG.read_text())
    assert config["framework"] == ["terraform"]
    assert config["skip-download"] is True


def test_every_skipped_check_has_a_reason_right_above_it():
    lines = CONFIG.read_text().splitlines()
    skips = [i for i, line in enumerate(lines) if re.match(r"^\s+- CKV", line)]
    assert skips == [i for i, line in enumerate(lines) if "CKV" in line and not line.lstrip().startswith("#")]
    for index in skips:
        reason = []
        cursor = index - 1
        while cursor >= 0 and lines[cursor].lstrip().startswith("#"):
            reason.append(lines[cursor])
            cursor -= 1
        assert len(" ".join(reason)) > 60, f"{lines[index].strip()} has no reason"
    ids = [lines[i].split("-", 1)[1].strip() for i in skips]
    assert len(ids) == len(set(ids))
    assert yaml.safe_load(CONFIG.read_text())["skip-check"] == ids


def test_no_check_is_skipped_inline():
    for path in (INFRA / "terraform").rglob("*.tf"):
        assert "checkov:skip" not in path.read_text(), f"{path}: skips belong in infra/checkov.yaml"
