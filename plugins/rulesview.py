"""What a rules file will enforce, in Chinese: the text of ``zbd rules`` (docs/cli.md).

A rules file is read and validated alone, without a ledger (:func:`zhubaodai.core.rules.load_rules`
rejects whatever the engine does not implement); then, per program: its document and
effective date, its accounts by role, and each rule with its severity, citation, what it
checks and how the project reads it, and each parameter's value in force on the date asked
for, with that version's own citation and any assumption (【假设】 and why). Values are
written as docs/rules.md writes them (:mod:`zhubaodai.scripts.gen_rules_doc`).
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Sequence

from zhubaodai.core.findings import SEVERITY_LABELS
from zhubaodai.core.rules import OPTIONAL_ROLES
from zhubaodai.core.rules import ROLES
from zhubaodai.core.rules import Param
from zhubaodai.core.rules import Program
from zhubaodai.core.rules import Rule
from zhubaodai.core.rules import Rulebook
from zhubaodai.scripts.gen_rules_doc import assumption_text
from zhubaodai.scripts.gen_rules_doc import value_text
from zhubaodai.scripts.gen_rules_doc import version_basis

#: What each severity means for the user.
SEVERITY_EFFECT = {
    "error": "违反即令 bean-check 与 zbd check 失败",
    "warning": "只提示审阅人，不令 bean-check 失败；zbd check --strict 时失败",
}


def _param_lines(program: Program, rule: Rule, name: str, param: Param, on: datetime.date) -> list[str]:
    i = bisect.bisect_right(param.dates, on) - 1
    lines: list[str] = []
    if i < 0:
        lines.append(f"    {name}：{on} 尚无生效版本（最早版本自 {param.dates[0]} 起施行）")
    elif param.values[i] is None:
        lines.append(f"    {name}：自 {param.dates[i]} 起已终止（{on} 不检查此参数）")
    else:
        lines.append(
            f"    {name} = {value_text(rule.id, name, param.values[i])}"
            f"（自 {param.dates[i]} 起；依据 {version_basis(program, param, i)}）"
        )
    if i + 1 < len(param.dates):
        j = i + 1
        value = param.values[j]
        shown = "终止（null）" if value is None else value_text(rule.id, name, value)
        more = f"，其后另有 {len(param.dates) - j - 1} 个版本" if len(param.dates) - j > 1 else ""
        lines.append(f"      下一版本：自 {param.dates[j]} 起 {shown}（依据 {version_basis(program, param, j)}）{more}")
    return lines


def _rule_lines(program: Program, rule: Rule, on: datetime.date) -> list[str]:
    lines = [
        f"  [{rule.id}] {program.names.say(rule.title)} —— {SEVERITY_LABELS[rule.severity]}（{SEVERITY_EFFECT[rule.severity]}）",
        f"    依据：{program.cite_rule(rule, on)}",
        f"    检查：{rule.summary}",
    ]
    if rule.reading:
        lines.append(f"    释义：{rule.reading}")
    if rule.assumption:
        lines.append(f"    {assumption_text(rule.assumption)}")
    if rule.params:
        lines.append(f"    参数（{on} 有效的版本）：")
        for name, param in rule.params.items():
            lines += ["  " + line for line in _param_lines(program, rule, name, param, on)]
    return lines


def describe_program(program: Program, on: datetime.date) -> list[str]:
    roles = {**ROLES, **OPTIONAL_ROLES}
    errors = sum(1 for r in program.rules.values() if r.severity == "error")
    short = f"（引用时简称 {program.cite_as}）" if program.cite_as not in program.document else ""
    lines = [
        f"{program.code} {program.name}",
        f"  文件：{program.document}{short}，自 {program.effective} 起施行",
    ]
    if program.names.described():
        lines.append(f"  资金名称（rules.yaml names）：{program.names.described()}")
    lines.append("  账户（按角色）：")
    width = max((len(role) for role in program.accounts), default=0)
    for role, account in program.accounts.items():
        lines.append(f"    {role.ljust(width)}  {account.ljust(40)}  {program.names.say(roles.get(role, ''))}")
    lines.append(f"  规则（{len(program.rules)} 条：错误 {errors} 条，警告 {len(program.rules) - errors} 条）：")
    for rule in program.rules.values():
        lines += ["", *_rule_lines(program, rule, on)]
    return lines


def describe(rulebook: Rulebook, shown_path: str, on: datetime.date, codes: Sequence[str] = ()) -> str:
    """The whole text of ``zbd rules`` for the programs ``codes`` (all when empty)."""
    programs = [rulebook.programs[c] for c in codes] if codes else list(rulebook.programs.values())
    calendar = "按 calendar 表计算工作日" if rulebook.calendar is not None else "工作日只按 chinesecalendar 计算"
    lines = [
        f"规则文件：{shown_path}（校验通过：{len(rulebook.programs)} 个项目；{calendar}）",
        f"参数取 {on} 有效的版本。",
    ]
    for program in programs:
        lines += ["", *describe_program(program, on)]
    return "\n".join(lines)
