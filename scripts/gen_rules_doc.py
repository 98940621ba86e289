"""Generate docs/rules.md from rules.yaml and the engine's catalogue of rule ids.

Every rule id the engine knows (``zhubaodai.core.rules.CATALOGUE``, plus ``ledger.format``) gets
a section: what it checks, the article, the severity and the reading each program takes,
its parameters with their versions, and the module that implements it. The page is never
edited by hand; a test fails when it is out of date.

Usage::

    python -m zhubaodai.scripts.gen_rules_doc            # print the page
    python -m zhubaodai.scripts.gen_rules_doc --check    # exit 1 if docs/rules.md is stale
    python -m zhubaodai.scripts.gen_rules_doc --write    # (re)write docs/rules.md
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from zhubaodai.core.findings import FORMAT_CITATION
from zhubaodai.core.findings import FORMAT_RULE
from zhubaodai.core.money import percent
from zhubaodai.core.money import yuan
from zhubaodai.core.rules import CATALOGUE
from zhubaodai.core.rules import Param
from zhubaodai.core.rules import Program
from zhubaodai.core.rules import Rule
from zhubaodai.core.rules import Rulebook
from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import kind_text
from zhubaodai.core.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = Path(__import__("zhubaodai").__file__).resolve().parent
SEVERITY = {"error": "错误（error）", "warning": "警告（warning）"}
GROUPS = (
    ("fee.", "助保金"),
    ("pool.", "专户"),
    ("comp.", "代偿"),
    ("recovery.", "追偿"),
    ("loan.", "贷款条件"),
    ("eligibility", "准入与黑名单"),
    ("blacklist", "准入与黑名单"),
    ("risk.", "风险补偿金"),
    ("notice.", "告知期限"),
    ("program.", "项目周期"),
)
LABELS = {
    # anchors, bases, components, deductions, order, criteria
    "confirmation": "逾期事实确认",
    "overdue": "逾期",
    "claim": "代偿申请",
    "outstanding": "贷款余额",
    "expected_volume": "年度预计业务量",
    "lent": "累计放款额",
    "contract": "合同金额",
    "credit_line": "授信额度",
    "principal": "本金",
    "interest": "利息",
    "compound": "复利",
    "penalty": "罚息/违约金",
    "costs": "追索费用",
    "bank": "合作银行",
    "risk": "风险补偿金",
    "guarantee": "助保金",
    "npl": "不良分类（次级、可疑、损失）",
    "zone": "注册地在本区",
    "size": "企业规模",
    "innovation": "高新技术企业或优质科技型企业",
    "roster": "备选企业名册",
    "assessment": "评分卡或信用等级",
    "credit": "征信无不良记录",
}
FORMAT_TEXT = (
    "登记簿指令和资金分录能否读懂：事件名、必填元数据、金额到分、币种、链接、日期先后等。"
    "还包括绕过规则的写法：资金池账户或质押存单账户上的 pad、与账面差一分钱的专户或质押存单余额断言（Beancount 的容差不适用）、"
    "写在本插件之后可能改动分录的插件。"
    "不属于任何一条政策，违反时引擎无法核对其他规则，故一律为错误。"
)


def _value(kind: str, value: Any) -> str:
    if value is None:
        return "（终止，null）"
    if kind == "rate":
        return percent(Decimal(value))
    if kind == "amount":
        return f"{yuan(Decimal(value))} 元"
    if kind == "multiple":
        return f"{Decimal(value).normalize():f} 倍"
    if kind == "workdays":
        return f"{value} 个工作日"
    if kind == "months":
        return f"{value} 个月"
    if kind == "days":
        return f"{value} 天"
    if kind == "flag":
        return "是" if value else "否"
    if kind == "score":
        return f"{Decimal(value).normalize():f} 分"
    if kind in ("parties", "residual"):
        # A table of parties (comp.shares): who bears what share, in the table's order.
        return "、".join(f"{row.label} {percent(row.share)}{'（其余）' if row.rest else ''}" for row in value)
    if kind == "shares":
        return " : ".join(name for name, _ in value) + " = " + " : ".join(f"{Decimal(v).normalize():f}" for _, v in value)
    if isinstance(value, tuple):
        return "、".join(LABELS.get(v, v) for v in value)
    return LABELS.get(value, str(value))


def _kind(rule_id: str, name: str) -> str:
    spec = CATALOGUE[rule_id]
    return spec.params.get(name) or spec.optional.get(name, "")


def value_text(rule_id: str, name: str, value: Any) -> str:
    """A parameter's value as users read it (the doc and ``zbd rules``)."""
    return _value(_kind(rule_id, name), value)


def assumption_text(reason: str) -> str:
    """An assumption as the doc and ``zbd rules`` mark it."""
    return f"【假设】{reason}"


def version_basis(program: Program, param: Param, i: int) -> str:
    """The citation of a parameter's ``i``-th version, with its assumption (if any)."""
    if i < len(param.versions):
        version = param.versions[i]
        text = str(version.citation)
        reason = version.assumption or param.assumption
    else:  # a Param built by hand, without versions
        text, reason = program.cite(param.article), param.assumption
    return f"{text} {assumption_text(reason)}" if reason else text


def has_assumption(rule: Rule) -> bool:
    """Whether any of the rule's reading or its values rests on an assumption."""
    return bool(rule.assumption) or any(
        p.assumption or any(v.assumption for v in p.versions) for p in rule.params.values()
    )


def _param_rows(program: Program, rule_id: str, param: Param, name: str) -> list[str]:
    return [
        f"| `{name}` | {when} | {value_text(rule_id, name, value)} | {version_basis(program, param, i)} |"
        for i, (when, value) in enumerate(zip(param.dates, param.values))
    ]


def _modules() -> dict[str, list[str]]:
    """Rule id -> the modules of the package that report it (by the quoted id)."""
    found: dict[str, list[str]] = {}
    for path in sorted((PLUGINS / "checks").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for rule_id in [*CATALOGUE, FORMAT_RULE]:
            if f'"{rule_id}"' in text:
                found.setdefault(rule_id, []).append(f"zhubaodai.checks.{path.stem}")
    found.setdefault(FORMAT_RULE, []).insert(0, "zhubaodai.core.register")
    if "zhubaodai.checks.integrity" not in found[FORMAT_RULE]:
        found[FORMAT_RULE].insert(1, "zhubaodai.checks.integrity")
    return found


def _group(rule_id: str) -> tuple[int, str]:
    for i, (prefix, label) in enumerate(GROUPS):
        if rule_id.startswith(prefix):
            return i, label
    return len(GROUPS), "其他"


def _unconfigured(rule_id: str) -> list[str]:
    """A rule no program configures: what a program would write, and where it is tested."""
    spec = CATALOGUE[rule_id]
    params = [f"`{n}`（{kind_text(k)}）" for n, k in spec.params.items()]
    params += [f"`{n}`（{kind_text(k)}，可选）" for n, k in spec.optional.items()]
    lines = ["（任何项目都未配置：现有项目的政策摘录都没有此要求。）", ""]
    if params:
        lines += [f"- 参数：{'；'.join(params)}", ""]
    local = ROOT / "tests" / "ledgers" / "rules" / rule_id / "rules.yaml"
    if local.exists():
        lines += [
            f"- 规则账本在测试项目下运行：`tests/ledgers/rules/{rule_id}/rules.yaml`（虚构的示例办法，只供测试）；"
            "写法见 [新增一个项目](adding-a-program.md)。",
            "",
        ]
    return lines


def render(rulebook: Rulebook) -> str:
    programs = list(rulebook.programs.values())
    modules = _modules()
    ids = sorted(CATALOGUE, key=lambda r: _group(r)[0])  # stable: catalogue order within a group
    out: list[str] = [
        "# 规则一览",
        "",
        "<!-- 本页由 scripts/gen_rules_doc.py 从 rules.yaml 与引擎的规则目录生成，请勿手改：",
        "     改了 rules.yaml 或新增规则后运行 python -m zhubaodai.scripts.gen_rules_doc --write。 -->",
        "",
        "每条规则：检查什么、依据的条款、严重程度、本项目对条文的理解（释义），以及参数的各个生效版本。",
        "**错误**令 `bean-check`（以及提交检查）失败；**警告**对应条文中的“原则上”“一般”，不令 `bean-check` 失败，",
        "在 `zbd check` 与 Fava 的审阅页面中显示，插件配置 `'strict': True` 时也作为错误。",
        "参数按生效日期分版本：事件发生日适用当日有效的版本，早于首个版本（或在以 null 终止之后）即报错。",
        "每个版本注明依据（文件与条款；修订通知另立的版本注明其自己的文件）；"
        "政策节选未写明、由本项目假定的取值或理解标为 **【假设】** 并写明理由，引用它的检查结果的依据也带【假设】。",
        "工作日按 `calendar.yaml`（国务院办公厅各年节假日安排通知）计算，见 [账本格式](ledger-format.md)。",
        "条文与本页的对应见 [政策条款对照](policy-coverage.md)。",
        "",
        "项目：" + "；".join(f"`{p.code}` {p.name}（{p.cite_as}，自 {p.effective} 起适用）" for p in programs),
        "",
        "资金名称：各项目在 `rules.yaml` 的 `names:` 中按其文件的称呼为资金命名，检查结果、Fava 页面、报表与 "
        "`zbd rules` 都按此称呼；未命名的沿用通用名称助保金、风险补偿金。"
        + "".join(f"`{p.code}` {p.names.described()}；" for p in programs if p.names.described()).rstrip("；")
        + "。",
        "",
        "## 总表",
        "",
        "| 规则编号 | 名称 | " + " | ".join(p.code for p in programs) + " |",
        "|---|---|" + "---|" * len(programs),
        f"| [`{FORMAT_RULE}`](#{FORMAT_RULE.replace('.', '')}) | 账本格式 | "
        + " | ".join("错误 · 账本格式" for _ in programs)
        + " |",
    ]
    for rule_id in ids:
        cells = []
        for p in programs:
            rule = p.rules.get(rule_id)
            cells.append(
                f"{SEVERITY[rule.severity][:2]} · {rule.article}{'【假设】' if has_assumption(rule) else ''}"
                if rule else "—（本办法无此要求）"
            )
        anchor = rule_id.replace(".", "")
        out.append(f"| [`{rule_id}`](#{anchor}) | {CATALOGUE[rule_id].title} | " + " | ".join(cells) + " |")
    out += [
        "",
        "## 账本格式",
        "",
        f"### `{FORMAT_RULE}`",
        "",
        f"**账本格式**。{FORMAT_TEXT}",
        "",
        f"- 严重程度：{SEVERITY['error']}；依据：{FORMAT_CITATION}",
        f"- 实现：{'、'.join(f'`{m}`' for m in modules.get(FORMAT_RULE, []))}",
        "",
    ]
    group = None
    for rule_id in ids:
        if _group(rule_id)[1] != group:
            group = _group(rule_id)[1]
            out += [f"## {group}", ""]
        spec = CATALOGUE[rule_id]
        out += [f"### `{rule_id}`", "", f"**{spec.title}**。实现：" + "、".join(f"`{m}`" for m in modules.get(rule_id, ["—"])), ""]
        configured = False
        for p in programs:
            rule = p.rules.get(rule_id)
            if rule is None:
                continue
            configured = True
            out += [
                f"#### {p.code} {p.name}",
                "",
                f"- 严重程度：{SEVERITY[rule.severity]}",
                f"- 条款：{p.cite(rule.article)}",
                f"- 检查什么：{rule.summary}",
            ]
            if rule.reading:
                out.append(f"- 释义：{rule.reading}")
            if rule.assumption:
                out.append(f"- {assumption_text(rule.assumption)}")
            if rule.params:
                out += ["", "| 参数 | 生效日期 | 取值 | 依据 |", "|---|---|---|---|"]
                for name, param in rule.params.items():
                    out += _param_rows(p, rule_id, param, name)
            out.append("")
        missing = [p.code for p in programs if rule_id not in p.rules]
        if missing:
            out += [f"{'、'.join(missing)}：rules.yaml 未配置此规则（该办法无此要求），不检查。", ""]
        if not configured:
            out += _unconfigured(rule_id)
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="从 rules.yaml 生成 docs/rules.md")
    parser.add_argument("--rules", default=str(ROOT / "rules.yaml"), help="规则文件（默认仓库根目录的 rules.yaml）")
    parser.add_argument("--out", default=str(ROOT / "docs" / "rules.md"), help="输出文件（默认 docs/rules.md）")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="写入输出文件（会覆盖）")
    action.add_argument("--check", action="store_true", help="只核对输出文件是否最新，不是最新时返回 1")
    args = parser.parse_args(argv)
    try:
        text = render(load_rules(args.rules))
    except RulesError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            print(f"{out} 不是最新：请运行 python -m zhubaodai.scripts.gen_rules_doc --write", file=sys.stderr)
            return 1
        return 0
    if args.write:
        out.write_text(text, encoding="utf-8")
        print(f"已写入 {out}", file=sys.stderr)
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
