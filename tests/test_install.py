"""The installed project works from any directory and adds only one import name.

Installing (``pip install`` of this directory) must make ``plugin "zhubaodai.plugin"``
lines work wherever bean-check is run from, and must not put generic top-level names such
as ``plugins``, ``importers`` or ``scripts`` on the import path. Each check runs in a
fresh interpreter whose working directory is an empty temporary directory, so nothing
is found by accident through the repository being the current directory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import LEDGERS
from conftest import ROOT

BIN = Path(sys.executable).parent
GENERIC_NAMES = ("plugins", "importers", "scripts")


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, timeout=120)


def test_bean_check_from_another_directory(tmp_path: Path) -> None:
    passing = LEDGERS / "rules" / "comp.waterfall" / "cqgx-pass.beancount"
    result = run([str(BIN / "bean-check"), str(passing)], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "" and result.stderr == ""

    failing = LEDGERS / "rules" / "fee.rate" / "cqgx-fail.beancount"
    result = run([str(BIN / "bean-check"), str(failing)], tmp_path)
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "[fee.rate] 渝高新发〔2021〕8号 第五条、第六条：" in out and "差额 0.01 元" in out
    assert "Traceback" not in out
    assert list(tmp_path.iterdir()) == []  # nothing written where it was run


def test_only_the_zhubaodai_name_is_importable(tmp_path: Path) -> None:
    probe = (
        "import importlib.util, json\n"
        f"names = {GENERIC_NAMES!r}\n"
        "spec = importlib.util.find_spec('zhubaodai.plugin')\n"
        "print(json.dumps({'generic': [n for n in names if importlib.util.find_spec(n) is not None],"
        " 'plugin': spec.origin if spec else None,"
        " 'subpackages': [n for n in ('zhubaodai.importers', 'zhubaodai.scripts')"
        " if importlib.util.find_spec(n) is None]}))\n"
    )
    result = run([sys.executable, "-c", probe], tmp_path)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["generic"] == []
    assert found["plugin"] is not None and Path(found["plugin"]).name == "plugin.py"
    assert found["subpackages"] == []


def test_distribution_declares_one_top_level_package(tmp_path: Path) -> None:
    probe = (
        "import importlib.metadata as m, json\n"
        "d = m.distribution('zhubaodai')\n"
        "print(json.dumps({'top': (d.read_text('top_level.txt') or '').split(),"
        " 'files': [str(f) for f in (d.files or [])]}))\n"
    )
    result = run([sys.executable, "-c", probe], tmp_path)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["top"] == ["zhubaodai"]
    for name in found["files"]:
        assert name.split("/")[0] not in GENERIC_NAMES, name


def test_pyproject_maps_folders_under_zhubaodai() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = project["tool"]["setuptools"]
    packages = setuptools["packages"]
    assert all(p == "zhubaodai" or p.startswith("zhubaodai.") for p in packages), packages
    assert set(setuptools["package-dir"]) <= set(packages)
