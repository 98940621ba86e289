"""The commit check: the hook runs through the pre-commit framework on a temporary git
repository. A commit that breaks a rule is refused with the article shown; a clean one
passes.

Offline: the test's repository uses a ``repo: local`` hook with ``language: system``
pointing at this virtual environment's ``zbd`` (the published hook in
.pre-commit-hooks.yaml is ``language: python``, which would make pre-commit build a fresh
environment from the network). Everything else of the hook (entry command, file pattern,
pass_filenames) is read from .pre-commit-hooks.yaml, so the test exercises what ledger
repositories get.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pre_commit.clientlib import load_config
from pre_commit.clientlib import load_manifest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "ledgers" / "cli" / "pool.beancount"
BIN = Path(sys.executable).parent
BREAK = """
2024-12-02 * "某单位" "从风险补偿金借出"
  Assets:CQGX:Pool:Risk      -100000.00 CNY
  Assets:Cash:Outside         100000.00 CNY
"""

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is needed for the commit check")


def _hook() -> dict:
    (hook,) = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    return hook


def test_published_hook_checks_the_top_file_not_the_staged_names():
    hook = _hook()
    assert hook["id"] == "zbd-check"
    assert hook["entry"] == "zbd check"
    assert hook["language"] == "python"  # pre-commit installs this package for the hook
    assert hook["pass_filenames"] is False


def test_this_repositorys_config_checks_the_demo_ledger():
    config = load_config(str(ROOT / ".pre-commit-config.yaml"))
    (repo,) = config["repos"]
    (hook,) = repo["hooks"]
    assert repo["repo"] == "local"
    assert hook["id"] == "zbd-check"
    assert hook["entry"].split()[-2:] == ["zbd", "check"] or hook["entry"].endswith("/zbd check")
    assert hook["args"] == ["ledger/main.beancount"]
    assert hook["pass_filenames"] is False
    assert hook["files"] == _hook()["files"]


@pytest.fixture
def repository(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "books"
    (repo / "accounts").mkdir(parents=True)
    shutil.copy(ROOT / "rules.yaml", repo / "rules.yaml")
    for name in ("calendar.yaml",):  # files rules.yaml refers to, where present
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, repo / name)
    shutil.copy(ROOT / "tests" / "ledgers" / "common" / "cqgx.beancount", repo / "accounts" / "cqgx.beancount")
    text = FIXTURE.read_text(encoding="utf-8")
    text = text.replace('include "../common/cqgx.beancount"', 'include "accounts/cqgx.beancount"')
    text = text.replace("'../../../rules.yaml'", "'rules.yaml'")
    (repo / "main.beancount").write_text(text, encoding="utf-8")
    hook = _hook()
    local = {
        "repos": [
            {
                "repo": "local",
                "hooks": [
                    {
                        "id": hook["id"],
                        "name": hook["name"],
                        "entry": str(BIN / hook["entry"]),
                        "language": "system",
                        "args": ["main.beancount"],
                        "pass_filenames": hook["pass_filenames"],
                        "files": hook["files"],
                    }
                ],
            }
        ]
    }
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(local, allow_unicode=True), encoding="utf-8")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "GIT_AUTHOR_NAME": "测试",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "测试",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("GIT_DIR", None)
    env.pop("GIT_INDEX_FILE", None)
    git(repo, env, "init", "-q")
    subprocess.run([str(BIN / "pre-commit"), "install"], cwd=repo, env=env, check=True, capture_output=True)
    return repo, env


def git(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)


def commits(repo: Path, env: dict[str, str]) -> int:
    done = git(repo, env, "rev-list", "--count", "HEAD")
    return int(done.stdout) if done.returncode == 0 else 0


def test_a_clean_commit_passes_and_a_breaking_one_is_refused_with_the_article(repository):
    repo, env = repository
    git(repo, env, "add", "-A")
    clean = git(repo, env, "commit", "-m", "账本：2024 年")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "助保贷账本检查" in clean.stdout + clean.stderr
    assert "Passed" in clean.stdout + clean.stderr
    assert commits(repo, env) == 1

    ledger = repo / "main.beancount"
    ledger.write_text(ledger.read_text(encoding="utf-8") + BREAK, encoding="utf-8")
    git(repo, env, "add", "main.beancount")
    refused = git(repo, env, "commit", "-m", "借出风险补偿金")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "Failed" in output
    assert "[pool.no_withdrawal]" in output
    assert "渝高新发〔2021〕8号 第七条" in output
    line = ledger.read_text(encoding="utf-8").splitlines().index('2024-12-02 * "某单位" "从风险补偿金借出"') + 1
    assert f"main.beancount:{line}" in output
    assert commits(repo, env) == 1  # nothing was committed

    # Undo the breach: the commit goes through.
    ledger.write_text(ledger.read_text(encoding="utf-8").replace(BREAK, "\n"), encoding="utf-8")
    git(repo, env, "add", "main.beancount")
    fixed = git(repo, env, "commit", "-m", "撤回")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert commits(repo, env) == 2


def test_a_broken_rules_file_is_refused_too(repository):
    repo, env = repository
    git(repo, env, "add", "-A")
    assert git(repo, env, "commit", "-m", "初始").returncode == 0
    rules = repo / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("severity: error", "severity: fatal", 1), encoding="utf-8")
    git(repo, env, "add", "rules.yaml")
    refused = git(repo, env, "commit", "-m", "改规则")
    assert refused.returncode != 0
    assert "rules.yaml 有误" in refused.stdout + refused.stderr
    assert commits(repo, env) == 1


def test_a_broken_calendar_file_is_refused_too(repository):
    """calendar.yaml travels with rules.yaml (it names it): staging only the calendar runs
    the hook, and a calendar the rules cannot read is refused."""
    repo, env = repository
    git(repo, env, "add", "-A")
    assert git(repo, env, "commit", "-m", "初始").returncode == 0
    calendar = repo / "calendar.yaml"
    calendar.write_text(calendar.read_text(encoding="utf-8").replace("schema: 1", "schema: [", 1), encoding="utf-8")
    git(repo, env, "add", "calendar.yaml")
    refused = git(repo, env, "commit", "-m", "改工作日历")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "助保贷账本检查" in output and "Failed" in output
    assert "calendar.yaml" in output
    assert commits(repo, env) == 1
