"""Mutation testing (mutmut 3) of the files a change touched, or of the whole scope.

Usage (after ``.venv/bin/pip install -e '.[mutation]'``)::

    .venv/bin/python -m zhubaodai.scripts.mutation            # files changed since main
    .venv/bin/python -m zhubaodai.scripts.mutation --ref HEAD~3
    .venv/bin/python -m zhubaodai.scripts.mutation --all      # the whole configured scope
    .venv/bin/python -m zhubaodai.scripts.mutation --files plugins/core/money.py

mutmut 3 derives a module's name from its path, but the package ``zhubaodai`` is installed
from plugins/ (and importers/, scripts/) through setuptools' package-dir: the file
plugins/core/money.py is the module zhubaodai.core.money. So the run happens in a mirror
tree, ``.mutation/`` (git-ignored), where the package sits at ``zhubaodai/`` as it is
imported; mutmut copies that into ``.mutation/mutants/`` and puts it first on sys.path
(ahead of the editable install's finder, which setuptools appends to sys.meta_path).
The scope, the test files of the stats run and the files copied beside the package are
``[tool.mutmut]`` in pyproject.toml, in the mirror's paths. mutmut then runs, for each
mutant, only the tests that reached the mutated function (coverage recorded in one stats
run). Everything runs at ``nice 15``; docs/testing.md records a run and its survivors.

Exit status: 0 when no mutant survived, 1 when some did (or timed out), 2 on bad input.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIRROR = ROOT / ".mutation"
#: Repository folder -> the package path it is installed as (pyproject's package-dir).
PACKAGE_DIRS: tuple[tuple[str, str], ...] = (
    ("importers", "zhubaodai/importers"),
    ("scripts", "zhubaodai/scripts"),
    ("plugins", "zhubaodai"),
)
LABEL = {
    "killed": "被测试发现", "survived": "存活", "no tests": "无测试覆盖", "timeout": "超时",
    "not checked": "未检查", "suspicious": "可疑", "skipped": "跳过", "segfault": "崩溃",
    "caught by type check": "类型检查发现", "check was interrupted by user": "被中断",
}


class MutationError(Exception):
    """The run cannot start; the message is for the user (Chinese)."""


@dataclass(frozen=True)
class Config:
    """The parts of pyproject's [tool.mutmut] this script reads."""

    only_mutate: tuple[str, ...]
    also_copy: tuple[str, ...]


def load_config(pyproject: Path) -> Config:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise MutationError("变异测试脚本需要 Python 3.11 或更新版本（读取 pyproject.toml 用 tomllib）") from None
    tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("mutmut")
    if not tool or not tool.get("only_mutate"):
        raise MutationError(f"{pyproject} 中没有 [tool.mutmut] 的 only_mutate（变异范围）")
    return Config(tuple(tool["only_mutate"]), tuple(tool.get("also_copy", ())))


def package_path(repo_path: str) -> str | None:
    """plugins/core/money.py -> zhubaodai/core/money.py (None outside the package)."""
    for folder, package in PACKAGE_DIRS:
        if repo_path.startswith(folder + "/"):
            return package + repo_path[len(folder):]
    return None


def in_scope(path: str, config: Config) -> bool:
    from fnmatch import fnmatch

    return any(fnmatch(path, pattern) for pattern in config.only_mutate)


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise MutationError(f"git {' '.join(args)} 失败：{done.stderr.strip()}")
    return done.stdout


def changed_files(ref: str) -> list[str]:
    """Python files changed since ``ref`` (from the merge base, committed or not)."""
    base = git("merge-base", ref, "HEAD").strip()
    names = set(git("diff", "--name-only", base, "--").split())
    names |= set(git("ls-files", "--others", "--exclude-standard").split())
    return sorted(n for n in names if n.endswith(".py") and (ROOT / n).exists())


def _sync_tree(source: Path, target: Path, skip: tuple[Path, ...] = ()) -> None:
    """Copy ``source`` over ``target``, touching only files whose content differs (mutmut
    compares modification times to know what to mutate again) and removing stale ones."""
    target.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for item in sorted(source.iterdir()):
        if item.name in ("__pycache__", ".pytest_cache", ".hypothesis") or item in skip:
            continue
        wanted.add(item.name)
        dest = target / item.name
        if item.is_dir():
            _sync_tree(item, dest)
        elif not dest.exists() or not filecmp.cmp(item, dest, shallow=False):
            shutil.copy2(item, dest)
    for stale in target.iterdir():
        if stale.name not in wanted and stale.name not in ("importers", "scripts", "rules.yaml", "calendar.yaml"):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()


def _replace_list(text: str, key: str, items: list[str]) -> str:
    listed = f"{key} = [\n" + "".join(f'    "{t}",\n' for t in items) + "]"
    text, count = re.subn(rf"(?ms)^{key} = \[.*?^\]", lambda _: listed, text)
    if count != 1:
        raise MutationError(f"pyproject.toml 的 [tool.mutmut] 中 {key} 应写成多行列表，以 ] 单独一行结束")
    return text


def build_mirror(config: Config, targets: list[str], tests: list[str] | None = None) -> None:
    """.mutation/: the package at zhubaodai/, the tests and data files beside it, and
    pyproject.toml with only_mutate narrowed to ``targets`` (and the stats run's test
    files to ``tests``, where given)."""
    MIRROR.mkdir(exist_ok=True)
    package = MIRROR / "zhubaodai"
    _sync_tree(ROOT / "plugins", package)
    _sync_tree(ROOT / "importers", package / "importers")
    _sync_tree(ROOT / "scripts", package / "scripts")
    # The shipped pool configurations name ../../rules.yaml (the repository root seen from
    # importers/pools/), which in the mirror is zhubaodai/: the rules and the calendar they
    # name go there too.
    for name in ("rules.yaml", "calendar.yaml"):
        if not (package / name).exists() or not filecmp.cmp(ROOT / name, package / name, shallow=False):
            shutil.copy2(ROOT / name, package / name)
    for name in ("tests", *config.also_copy):
        source = ROOT / name.rstrip("/")
        if source.is_dir():
            _sync_tree(source, MIRROR / source.name)
        elif source.exists():
            if not (MIRROR / name).exists() or not filecmp.cmp(source, MIRROR / name, shallow=False):
                shutil.copy2(source, MIRROR / name)
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    text = _replace_list(text, "only_mutate", targets)
    if tests:
        text = _replace_list(text, "pytest_add_cli_args_test_selection", tests)
    (MIRROR / "pyproject.toml").write_text(text, encoding="utf-8")


def summary(targets: list[str]) -> tuple[dict[str, Counter[str]], list[str]]:
    """Per mutated file, mutmut's verdicts (from its .meta files); the survivors' names."""
    from mutmut.__main__ import status_by_exit_code  # its own names of its exit codes

    by_file: dict[str, Counter[str]] = {}
    survivors = []
    for target in targets:
        meta = MIRROR / "mutants" / f"{target}.meta"
        if not meta.exists():
            continue
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        counts: Counter[str] = Counter()
        for name, code in codes.items():
            status = status_by_exit_code[code]
            counts[status] += 1
            if status in ("survived", "timeout", "suspicious"):
                survivors.append(name)
        by_file[target] = counts
    return by_file, survivors


def report(by_file: dict[str, Counter[str]]) -> str:
    columns = ("killed", "survived", "no tests", "timeout")
    lines = ["| 文件 | 变异体 | " + " | ".join(LABEL[c] for c in columns) + " | 其他 |", "|---" * 7 + "|"]
    for target, counts in by_file.items():
        total = sum(counts.values())
        other = total - sum(counts[c] for c in columns)
        lines.append(f"| {target} | {total} | " + " | ".join(str(counts[c]) for c in columns) + f" | {other} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m zhubaodai.scripts.mutation",
        description="对本次改动涉及的文件（或整个配置范围）运行变异测试（mutmut 3），按文件汇总并列出存活的变异体",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--ref", default="main", help="与哪个提交比较找出改动的文件（默认 main，从共同祖先算起）")
    group.add_argument("--all", action="store_true", help="整个配置范围（pyproject.toml 的 [tool.mutmut] only_mutate）")
    group.add_argument("--files", nargs="+", metavar="文件", help="指定仓库中的文件，如 plugins/core/money.py")
    parser.add_argument("--jobs", type=int, default=1, help="同时运行的变异体数（默认 1；本机两核与他人共用）")
    parser.add_argument(
        "--mutants", nargs="+", metavar="名称",
        help="只运行这些变异体（mutmut 的名称，可用通配符，如 'zhubaodai.core.money.*'）",
    )
    parser.add_argument(
        "--tests", nargs="+", metavar="测试文件",
        help="统计覆盖时只运行这些测试文件（代替 pyproject.toml 中的列表；改变列表会清除上次的结果）",
    )
    parser.add_argument("--fresh", action="store_true", help="删除上次的结果（.mutation/mutants）重新开始")
    parser.add_argument("--dry-run", action="store_true", help="只列出将变异的文件，不运行")
    args = parser.parse_args(argv)
    try:
        config = load_config(ROOT / "pyproject.toml")
        if args.all:
            targets = list(config.only_mutate)
        else:
            repo_files = args.files if args.files else changed_files(args.ref)
            for name in args.files or ():
                if not (ROOT / name).is_file():
                    raise MutationError(f"没有文件 {name}（路径相对于仓库根目录）")
            mapped = [package_path(n) for n in repo_files]
            targets = [p for p in mapped if p is not None and in_scope(p, config)]
        if any("*" in t for t in targets):
            raise MutationError("only_mutate 应逐个列出文件，而非通配符（脚本按文件汇总）")
        if not targets:
            where = "指定的文件" if args.files else f"自 {args.ref} 以来的改动"
            print(f"{where}不涉及变异测试范围内的文件（pyproject.toml 的 [tool.mutmut] only_mutate），无需运行")
            return 0
        print("将变异：\n" + "\n".join(f"  {t}" for t in targets))
        if args.dry_run:
            return 0
        mutmut = Path(sys.executable).with_name("mutmut")
        if not mutmut.exists():
            raise MutationError("未安装 mutmut：先运行 .venv/bin/pip install -e '.[mutation]'")
        if args.fresh and (MIRROR / "mutants").exists():
            shutil.rmtree(MIRROR / "mutants")
        for name in args.tests or ():
            if not (ROOT / name).is_file():
                raise MutationError(f"没有测试文件 {name}（路径相对于仓库根目录）")
        build_mirror(config, targets, args.tests)
        for target in targets:
            # A run whose scope left a file out copies it unmutated over its mutants (and
            # keeps the old .meta): mutmut then takes it as up to date. Remove such a copy
            # (and its .meta) so that the file is mutated again now.
            copy = MIRROR / "mutants" / target
            meta = copy.with_name(copy.name + ".meta")
            if copy.exists() and (not meta.exists() or "__mutmut_" not in copy.read_text(encoding="utf-8")):
                copy.unlink()
                meta.unlink(missing_ok=True)
    except MutationError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    os.nice(15)
    # scripts/engine_snapshot.py finds tests/ and the ledgers above its own folder unless told.
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", ZBD_ROOT=str(MIRROR / "mutants"))
    subprocess.run([str(mutmut), "run", "--max-children", str(args.jobs), *(args.mutants or ())], cwd=MIRROR, env=env)
    by_file, survivors = summary(targets)
    print("\n" + report(by_file))
    if survivors:
        listing = MIRROR / "survivors.txt"
        with listing.open("w", encoding="utf-8") as out:
            for name in survivors:
                shown = subprocess.run([str(mutmut), "show", name], cwd=MIRROR, capture_output=True, text=True)
                out.write(f"# {name}\n{shown.stdout}\n")
        print(f"\n存活或超时的变异体 {len(survivors)} 个，差异见 {listing.relative_to(ROOT)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
