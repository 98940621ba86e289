"""Write the demo ledger (``ledger/``): two years of both programs' books, as an accountant keeps them.

The scenario is curated, not random: 39 loans (24 in 重庆高新区, 15 in 乌兰浩特市) over
2024–2025 with increases, renewals, repayments in instalments, early settlement, the
quarterly interest credits, the quarter-end balance assertions, each program's risk-fund
injection and a top-up, WLHT's yearly plan (expected volume), and two defaults:

* CQ-2024-006 (重庆缙岭数智软件): the guarantee fund covers the whole claim; the
  enterprise is blacklisted afterwards (CQ 第十六条);
* WL-2024-003 (乌兰浩特市罕山乳业): the claim exceeds the guarantee fund, which pays all it
  has; the shortfall is split 50/50 between the risk fund and the bank (``bank_share``).
  The bank later recovers part of it from the collateral: net of costs and penalty the
  bank's share comes back first, the rest to the risk fund. The enterprise had moved its
  assets away to evade the debt and is blacklisted (WLHT 第三十条); it has no later loan.

The books are error-free and carry exactly one deliberate warning, which a reviewer
should see: CQ-2025-001's contract rate 3.80% is above 1.2 × the 1-year LPR in force on
its contract day (3.10% from 2024-10-21, so 3.72%): ``loan.rate`` (第十二条 “原则上”),
explained by the accountant's comment above the contract. tests/test_demo.py checks
both, and which rules the demo exercises.

Every figure a rule governs comes from the engine, through :mod:`zhubaodai.scripts.ledgergen`
(fees, interest split, waterfall, recovery distribution). The files are committed;
tests/test_demo.py regenerates them and compares byte for byte, so change this script and
run it rather than editing the ledger by hand::

    python -m zhubaodai.scripts.gen_demo            # rewrite ledger/ (needs --force if present)
    python -m zhubaodai.scripts.gen_demo -o DIR     # write elsewhere
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from zhubaodai.checks.waterfall import Waterfall
from zhubaodai.clitext import ChineseCommand
from zhubaodai.core.rules import load_rules
from zhubaodai.importers.config import load_pool_config
from zhubaodai.scripts.ledgergen import Book
from zhubaodai.scripts.ledgergen import DefaultSpec
from zhubaodai.scripts.ledgergen import GenerationError
from zhubaodai.scripts.ledgergen import Hooks
from zhubaodai.scripts.ledgergen import Increase
from zhubaodai.scripts.ledgergen import LetterRef
from zhubaodai.scripts.ledgergen import LoanRun
from zhubaodai.scripts.ledgergen import LoanSpec
from zhubaodai.scripts.ledgergen import RecoverySpec
from zhubaodai.scripts.ledgergen import Renewal
from zhubaodai.scripts.ledgergen import Repayment
from zhubaodai.scripts.ledgergen import STYLES
from zhubaodai.scripts.ledgergen import Timeline
from zhubaodai.scripts.ledgergen import add_months
from zhubaodai.scripts.ledgergen import comment_lines
from zhubaodai.scripts.ledgergen import contract_rate
from zhubaodai.scripts.ledgergen import credit_code
from zhubaodai.scripts.ledgergen import loan_steps
from zhubaodai.scripts.ledgergen import quarter_of
from zhubaodai.scripts.ledgergen import workdays

REPO = Path(__file__).resolve().parent.parent
LEDGER_DIR = REPO / "ledger"
RULES = REPO / "rules.yaml"
POOLS = REPO / "importers" / "pools"
START = datetime.date(2024, 1, 2)
END = datetime.date(2025, 12, 31)
YEARS = (2024, 2025)
PROGRAM_DIRS = {"CQGX": "cqgx", "WLHT": "wlht"}
QUARTERS = {1: "一", 2: "二", 3: "三", 4: "四"}
#: CQ-2025-001's contract rate: above 1.2 × LPR (the demo's one deliberate warning).
DELIBERATE_RATE = "0.0380"

D = datetime.date


def yuan(text: str) -> Decimal:
    return Decimal(text.replace(",", "")).quantize(Decimal("0.01"))


# --------------------------------------------------------------------------------------
# Where each directive goes: one file per program and year, plus the accounts.

FILE_HEADS = {
    "CQGX": (
        "重庆高新区中小微企业“助保贷”资金池",
        "依据：《重庆高新区中小微企业“助保贷”管理办法》（渝高新发〔2021〕8号）",
        "专户：建设银行重庆高新区支行；主管单位：重庆高新区创新服务中心",
    ),
    "WLHT": (
        "乌兰浩特市小型微型企业“助保贷”资金池",
        "依据：《乌兰浩特市小型微型企业“助保贷”业务管理办法》",
        "专户：建设银行乌兰浩特分行；管理机构：乌兰浩特市金融工作办公室（助保贷工作领导小组办公室）",
    ),
}
GENERATED = "本文件由 scripts/gen_demo.py 生成（测试逐字节比对）：请修改脚本后重新生成，勿手工修改。"


class DemoSink:
    """Routes each directive to ``<program>/<year>.beancount`` (or accounts), with a
    heading for each quarter."""

    def __init__(self) -> None:
        self.files: dict[str, list[str]] = {}
        self._quarter: dict[str, tuple[int, int]] = {}

    def _file(self, path: str, code: str, what: str) -> list[str]:
        chunks = self.files.get(path)
        if chunks is None:
            title, basis, where = FILE_HEADS[code]
            head = f"{title} · {what}\n{basis}\n{where}\n{GENERATED}"
            chunks = self.files[path] = [comment_lines(head) + "\n"]
        return chunks

    def write(self, code: str | None, day: datetime.date, text: str, section: str = "journal") -> None:
        assert code is not None
        folder = PROGRAM_DIRS[code]
        if section == "accounts":
            self._file(f"{folder}/accounts.beancount", code, "账户").append(text + "\n")
            return
        path = f"{folder}/{day.year}.beancount"
        chunks = self._file(path, code, f"{day.year} 年登记簿与资金分录")
        quarter = quarter_of(day)
        if self._quarter.get(path) != quarter:
            self._quarter[path] = quarter
            chunks.append(f";; ===== {quarter[0]}年第{QUARTERS[quarter[1]]}季度 =====\n\n")
        chunks.append(text + "\n")

    def texts(self) -> dict[str, str]:
        return {path: "".join(chunks).rstrip("\n") + "\n" for path, chunks in self.files.items()}


MAIN = """\
; 助保贷资金池（演示账本）：重庆高新区、乌兰浩特市两个项目，2024—2025 年。
; 每个项目一个目录：accounts.beancount 为账户，<年>.beancount 为当年的登记簿（custom）与资金分录。
; {generated}
option "title" "助保贷资金池（演示）"
option "operating_currency" "CNY"
plugin "zhubaodai.plugin" "{{'rules': '../rules.yaml'}}"
2024-01-01 custom "fava-option" "language" "zh"
2024-01-01 custom "fava-option" "locale" "zh_CN"
2024-01-01 custom "fava-option" "default-page" "extension/Zbd1Pool/"
2024-01-01 custom "fava-extension" "zhubaodai.fava"
2024-01-01 custom "fava-option" "import-config" "../importers/fava_import_config.py"
2024-01-01 custom "fava-option" "import-dirs" "../importers/samples"

{includes}"""


def main_file(paths: list[str]) -> str:
    order = []
    for folder in PROGRAM_DIRS.values():
        order.append(f"{folder}/accounts.beancount")
        order.extend(f"{folder}/{year}.beancount" for year in YEARS)
    missing = [p for p in order if p not in paths]
    if missing:
        raise GenerationError(f"演示账本缺少文件：{'、'.join(missing)}")
    includes = "".join(f'include "{p}"\n' for p in order)
    return MAIN.format(generated=GENERATED, includes=includes)


# --------------------------------------------------------------------------------------
# The enterprises.


@dataclass(frozen=True)
class Firm:
    id: str
    name: str
    registered: datetime.date
    facts: dict[str, Any]
    note: str | None = None


def cq_cert(cert: str, until: datetime.date, size: str = "小型") -> dict[str, Any]:
    return {"size": size, "zone": True, "hightech_cert": cert, "hightech_until": until}


def cq_db(revenue: str, year: int, size: str = "小型") -> dict[str, Any]:
    return {"size": size, "zone": True, "tech_db": True, "own_ip": True, "revenue": yuan(revenue), "revenue_year": year}


def wl_score(score: int, roster: str, size: str = "小型") -> dict[str, Any]:
    return {"size": size, "roster": roster, "score": score, "credit_clean": True}


def wl_rating(rating: str, roster: str, size: str = "小型") -> dict[str, Any]:
    return {"size": size, "roster": roster, "rating": rating, "credit_clean": True}


R24 = "乌金融办名册〔2024〕1号"
R24B = "乌金融办名册〔2024〕4号"
R25 = "乌金融办名册〔2025〕2号"

FIRMS: dict[str, list[Firm]] = {
    "CQGX": [
        Firm("E-CQ-001", "重庆渝芯微电子科技有限公司", D(2024, 1, 15), cq_cert("GR202351100318", D(2026, 10, 31)),
             "高新技术企业，芯片设计，2023 年 10 月取得证书"),
        Firm("E-CQ-002", "重庆科睿智感传感技术有限公司", D(2024, 2, 19), cq_cert("GR202251100927", D(2025, 11, 30))),
        Firm("E-CQ-003", "重庆金凤岭生物医药有限公司", D(2024, 3, 4), cq_cert("GR202351101142", D(2026, 11, 30), "中型")),
        Firm("E-CQ-004", "重庆西永精工模具有限公司", D(2024, 3, 18), cq_db("6,850,000.00", 2023),
             "优质科技型企业（已入库科技型企业系统、拥有自主知识产权），2023 年营业收入 685 万元"),
        Firm("E-CQ-005", "重庆含谷新材料科技有限公司", D(2024, 4, 8), cq_cert("GR202451100206", D(2027, 10, 31))),
        Firm("E-CQ-006", "重庆缙岭数智软件有限公司", D(2024, 5, 6), cq_cert("GR202251100541", D(2025, 12, 31), "微型")),
        Firm("E-CQ-007", "重庆白市驿智能装备有限公司", D(2024, 6, 11), cq_cert("GR202351100777", D(2026, 12, 31), "中型")),
        Firm("E-CQ-008", "重庆熙街光电科技有限公司", D(2024, 7, 8), cq_cert("GR202451100389", D(2027, 11, 30))),
        Firm("E-CQ-009", "重庆陶然检测技术服务有限公司", D(2024, 8, 5), cq_db("5,320,000.00", 2023, "微型")),
        Firm("E-CQ-010", "重庆虎溪云链信息技术有限公司", D(2024, 9, 2), cq_cert("GR202251101066", D(2025, 12, 31))),
        Firm("E-CQ-011", "重庆青凤环保科技有限公司", D(2024, 10, 8), cq_cert("GR202351100512", D(2026, 10, 31))),
        Firm("E-CQ-012", "重庆高腾汽车电子有限公司", D(2024, 11, 4), cq_cert("GR202451100828", D(2027, 12, 31), "中型")),
        Firm("E-CQ-013", "重庆锐驰激光科技有限公司", D(2024, 12, 2), cq_cert("GR202451100915", D(2027, 12, 31))),
        Firm("E-CQ-014", "重庆康迈医疗器械有限公司", D(2025, 1, 6), cq_cert("GR202451101203", D(2027, 12, 31))),
        Firm("E-CQ-015", "重庆凌川电源技术有限公司", D(2025, 2, 10), cq_cert("GR202351100644", D(2026, 11, 30), "中型")),
        Firm("E-CQ-016", "重庆玉屏数字科技有限公司", D(2025, 4, 7), cq_db("9,160,000.00", 2024)),
        Firm("E-CQ-017", "重庆走马岭新能源科技有限公司", D(2025, 6, 9), cq_cert("GR202451100472", D(2027, 10, 31))),
        Firm("E-CQ-018", "重庆巴福智联软件有限公司", D(2025, 8, 11), cq_cert("GR202551100136", D(2028, 10, 31), "微型")),
        Firm("E-CQ-019", "重庆华岩精密传动有限公司", D(2025, 9, 8), cq_cert("GR202351101388", D(2026, 12, 31))),
        Firm("E-CQ-020", "重庆明湖芯片封测有限公司", D(2025, 11, 10), cq_cert("GR202551100274", D(2028, 11, 30), "中型")),
    ],
    "WLHT": [
        Firm("E-WL-001", "乌兰浩特市洮儿河米业有限责任公司", D(2024, 1, 22), wl_score(78, R24)),
        Firm("E-WL-002", "乌兰浩特市兴安绿源农牧科技有限公司", D(2024, 2, 26), wl_score(83, R24)),
        Firm("E-WL-003", "乌兰浩特市罕山乳业有限公司", D(2024, 4, 1), wl_score(71, R24)),
        Firm("E-WL-004", "乌兰浩特市科尔沁肉类食品有限公司", D(2024, 5, 6), wl_score(66, R24, "微型")),
        Firm("E-WL-005", "乌兰浩特市天骄建材有限公司", D(2024, 6, 3), wl_rating("AA", R24B),
             "按小企业客户信用评级办法评为 AA 级，额度上限 2000 万元"),
        Firm("E-WL-006", "乌兰浩特市红城商贸有限公司", D(2024, 7, 1), wl_score(74, R24B, "微型")),
        Firm("E-WL-007", "乌兰浩特市五一物流有限公司", D(2024, 8, 12), wl_score(69, R24B)),
        Firm("E-WL-008", "乌兰浩特市蒙源饲料有限责任公司", D(2024, 9, 18), wl_rating("A", R24B)),
        Firm("E-WL-009", "乌兰浩特市吉祥包装制品有限公司", D(2024, 10, 28), wl_score(62, R24B, "微型")),
        Firm("E-WL-010", "乌兰浩特市葛根农机服务有限公司", D(2025, 2, 10), wl_score(75, R25, "微型")),
        Firm("E-WL-011", "乌兰浩特市白狼峰文化旅游有限公司", D(2025, 3, 17), wl_score(80, R25)),
        Firm("E-WL-012", "乌兰浩特市义勒力特粮油有限公司", D(2025, 5, 19), wl_score(72, R25)),
        Firm("E-WL-013", "乌兰浩特市乌力吉新能源科技有限公司", D(2025, 8, 18), wl_rating("AA", R25)),
        Firm("E-WL-014", "乌兰浩特市兴安红服饰有限公司", D(2025, 10, 20), wl_score(67, R25, "微型")),
    ],
}


# --------------------------------------------------------------------------------------
# The loans.


class Scenario:
    """Builds the loan specifications, numbering letters and contracts as the offices do."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self.cal = workdays()
        self.names = {f.id: f.name for firms in FIRMS.values() for f in firms}

    @staticmethod
    def letter(code: str) -> LetterRef:
        """The managing body's approval letter, numbered when written (in date order)."""
        return LetterRef(STYLES[code].approval_issuer)

    def rate(self, code: str, day: datetime.date, spread_bp: int) -> Decimal:
        if code == "CQGX":
            return contract_rate(self.book, code, day, Decimal(spread_bp) / 10000)
        return Decimal("0.0385") + Decimal(spread_bp) / 10000

    def loan(
        self,
        loan_id: str,
        enterprise: str,
        amount: str,
        approval: datetime.date,
        *,
        term: int = 12,
        spread: int = 30,
        rate: str | None = None,
        lags: tuple[int, int, int, int] = (2, 1, 1, 2),
        increases: tuple[tuple[datetime.date, str], ...] = (),
        repayments: tuple[tuple[datetime.date, str], ...] = (),
        renewals: tuple[tuple[int, str], ...] = (),  # (term months, repaid first)
        outcome: str | DefaultSpec = "repaid",
        collateral: str | None = None,
        guarantor: str | None = None,
        notes: dict[str, str] | None = None,
        contract_explanation: str | None = None,  # the contract's `note:` (docs/ledger-format.md)
        renewal_note: str | None = None,
        increase_note: str | None = None,
    ) -> LoanSpec:
        code = "CQGX" if loan_id.startswith("CQ") else "WLHT"
        if not self.cal.is_workday(approval):
            raise GenerationError(f"{loan_id} 的审核同意日 {approval} 不是工作日")
        style = STYLES[code]
        year = approval.year
        number = int(loan_id.rsplit("-", 1)[1])
        contract_no = style.contract_style.format(year=year, n=number + (14 if code == "CQGX" else 6))
        amount_d = yuan(amount)
        fee_lag, contract_lag, disburse_lag, notice_lag = lags
        contract_day = self.cal.add(self.cal.add(approval, fee_lag), contract_lag)
        wl = code == "WLHT"
        contract_meta: dict[str, Any] = {}
        if wl:
            contract_meta = {"collateral": yuan(collateral or amount), "joint_liability": guarantor or ""}
        if contract_explanation:
            contract_meta["note"] = contract_explanation
        incs = []
        total = amount_d
        for k, (day, extra) in enumerate(increases, start=1):
            total += yuan(extra)
            meta = {"collateral": (total * Decimal("0.6")).quantize(Decimal("1000.00"))} if wl else {}
            incs.append(
                Increase(day, yuan(extra), letter=self.letter(code),
                         contract_no=f"{contract_no}-补{k}", fee_lead=2, note=increase_note, meta=meta)
            )
        reps = tuple(Repayment(day, yuan(value)) for day, value in repayments)
        principal = total - sum((r.amount for r in reps), Decimal(0))
        rens = []
        maturity = add_months(self.cal.add(contract_day, disburse_lag), term)
        for months, repaid in renewals:
            principal -= yuan(repaid)
            meta = {"collateral": (principal * Decimal("0.6")).quantize(Decimal("1000.00"))} if wl else {}
            rens.append(
                Renewal(
                    term_months=months,
                    letter=self.letter(code),
                    repay_first=yuan(repaid),
                    notice_lag=2,
                    fee_lead=3,
                    note=renewal_note,
                    rate=self.rate(code, maturity, spread),
                    meta=meta,
                )
            )
            maturity = add_months(maturity, months)
        return LoanSpec(
            id=loan_id,
            program=code,
            enterprise=enterprise,
            payer=self.names[enterprise],
            amount=amount_d,
            approval=approval,
            letter=self.letter(code),
            term_months=term,
            rate=Decimal(rate) if rate is not None else self.rate(code, contract_day, spread),
            contract_no=contract_no,
            contract_meta=contract_meta,
            fee_lag=fee_lag,
            contract_lag=contract_lag,
            disburse_lag=disburse_lag,
            notice_lag=notice_lag,
            increases=tuple(incs),
            repayments=reps,
            renewals=tuple(rens),
            outcome=outcome,
            notes=notes or {},
        )


def cq_loans(s: Scenario) -> list[LoanSpec]:
    default_a = DefaultSpec(
        interest=yuan("2,695.83"),
        confirm_letter="高新创服确〔2025〕3号",
        claim_letter="建行高新区支行函〔2025〕21号",
        overdue_after=1,
        confirm_lag=2,
        comp_lag=6,
        blacklist="到期未还且转移经营收入、拒不配合催收，认定为恶意逃避债务（第十六条）",
        blacklist_after=25,
        notes={
            "overdue": "缙岭数智到期未归还本金 100 万元及最后一期利息，银行出具《关于使用助保金代偿“助保贷”贷款的函》",
            "confirmation": "创新服务中心核实逾期事实，出具确认函；15 个工作日的代偿期限自次日起算",
            "claim": "助保金余额足以代偿，经管委会分管领导审核同意，审核结果抄送高新区财政局",
            "compensation": "以助保金全额代偿（本金 1,000,000.00 元 + 利息 2,695.83 元）；风险补偿金不动用",
            "blacklist": "经与合作银行共同核查，缙岭数智恶意逃避债务，列入信用黑名单",
        },
    )
    return [
        s.loan("CQ-2024-001", "E-CQ-001", "3,000,000.00", D(2024, 1, 22), spread=40,
               increases=((D(2024, 6, 17), "1,000,000.00"),), renewals=((12, "0"),), outcome="open",
               notes={"approval": "渝芯微电子：本年度第一笔助保贷，流动资金 300 万元，期限一年",
                      "fee": "合作银行通知后缴足助保金，方可签订贷款合同和担保合同"},
               increase_note="渝芯微电子订单增加，经审核同意增加贷款金额 100 万元（只就增加部分补缴 2.5%）",
               renewal_note="到期续贷 400 万元，经创新服务中心审查通过；续贷不再缴纳助保金"),
        s.loan("CQ-2024-002", "E-CQ-002", "2,000,000.00", D(2024, 2, 26), spread=20, lags=(3, 0, 1, 3)),
        s.loan("CQ-2024-003", "E-CQ-003", "5,000,000.00", D(2024, 3, 11), spread=10, renewals=((12, "1,000,000.00"),),
               outcome="open", notes={"approval": "金凤岭生物医药：额度 500 万元，在第十条“一般”额度以内"},
               renewal_note="到期先归还 100 万元，余 400 万元续贷一年"),
        s.loan("CQ-2024-004", "E-CQ-004", "1,500,000.00", D(2024, 3, 25), term=6, spread=30,
               notes={"settlement": "西永精工六个月期贷款到期结清"}),
        s.loan("CQ-2024-005", "E-CQ-005", "2,500,000.00", D(2024, 4, 15), spread=20,
               repayments=((D(2024, 10, 15), "500,000.00"),)),
        s.loan("CQ-2024-006", "E-CQ-006", "1,000,000.00", D(2024, 5, 13), spread=45, outcome=default_a),
        s.loan("CQ-2024-007", "E-CQ-007", "4,000,000.00", D(2024, 6, 17), spread=15, lags=(1, 1, 2, 1)),
        s.loan("CQ-2024-008", "E-CQ-008", "3,500,000.00", D(2024, 7, 15), spread=30, renewals=((12, "0"),), outcome="open"),
        s.loan("CQ-2024-009", "E-CQ-009", "800,000.00", D(2024, 8, 12), term=9, spread=45),
        s.loan("CQ-2024-010", "E-CQ-010", "2,000,000.00", D(2024, 9, 9), spread=25,
               increases=((D(2025, 1, 13), "500,000.00"),)),
        s.loan("CQ-2024-011", "E-CQ-011", "4,500,000.00", D(2024, 10, 14), spread=20, renewals=((12, "0"),), outcome="open"),
        s.loan("CQ-2024-012", "E-CQ-012", "1,200,000.00", D(2024, 11, 11), spread=30,
               repayments=((D(2025, 8, 15), "1,200,000.00"),), outcome="early",
               notes={"settlement": "高腾汽车电子提前归还全部本金，贷款结清"}),
        s.loan("CQ-2024-013", "E-CQ-013", "3,000,000.00", D(2024, 12, 9), spread=40),
        # The demo's one deliberate finding: a loan.rate warning (第十二条 says 原则上).
        s.loan("CQ-2025-001", "E-CQ-014", "2,000,000.00", D(2025, 1, 13), rate=DELIBERATE_RATE, outcome="open",
               notes={"contract": "康迈医疗器械合同年利率 3.80%，高于签订日 1 年期 LPR 3.10% 的 1.2 倍（3.72%）："
                                  "检查给出 loan.rate 警告；会计的说明记在合同的 note 元数据中，审阅页面显示在警告旁"},
               contract_explanation="合作银行按该企业的风险定价，未给予第十二条的优惠利率上限；第十二条为“原则上”，"
                                    "已报创新服务中心知悉并同意"),
        s.loan("CQ-2025-002", "E-CQ-015", "5,000,000.00", D(2025, 2, 17), spread=20, outcome="open"),
        s.loan("CQ-2025-003", "E-CQ-004", "1,500,000.00", D(2025, 3, 10), spread=30, outcome="open",
               notes={"approval": "西永精工上笔贷款已结清，再次申请；已更新 2024 年度营业收入"}),
        s.loan("CQ-2025-004", "E-CQ-016", "3,000,000.00", D(2025, 4, 14), spread=25,
               increases=((D(2025, 9, 15), "1,000,000.00"),), outcome="open"),
        s.loan("CQ-2025-005", "E-CQ-002", "2,500,000.00", D(2025, 5, 19), term=6, spread=20),
        s.loan("CQ-2025-006", "E-CQ-017", "1,800,000.00", D(2025, 6, 16), spread=30, outcome="open"),
        s.loan("CQ-2025-007", "E-CQ-007", "4,000,000.00", D(2025, 7, 21), spread=15, outcome="open"),
        s.loan("CQ-2025-008", "E-CQ-018", "2,200,000.00", D(2025, 8, 18), spread=40, outcome="open"),
        s.loan("CQ-2025-009", "E-CQ-019", "3,000,000.00", D(2025, 9, 15), spread=25, outcome="open"),
        s.loan("CQ-2025-010", "E-CQ-009", "1,000,000.00", D(2025, 10, 20), spread=45, outcome="open"),
        s.loan("CQ-2025-011", "E-CQ-020", "2,800,000.00", D(2025, 11, 17), spread=20, outcome="open"),
    ]


def wl_loans(s: Scenario) -> list[LoanSpec]:
    default_b = DefaultSpec(
        interest=yuan("16,875.00"),
        compound=yuan("84.38"),
        penalty=yuan("2,812.50"),
        confirm_letter="乌助保贷办确〔2025〕2号",
        claim_letter="建行乌兰浩特分行函〔2025〕9号",
        overdue_after=1,
        confirm_lag=2,
        comp_lag=2,
        blacklist="存货、设备在逾期前转移至关联企业，拒不配合催收，认定为恶意逃废债务（第三十条）",
        blacklist_after=20,
        recovery=RecoverySpec(
            after_days=158,
            letter="建行乌兰浩特分行函〔2025〕27号",
            recovered=yuan("800,000.00"),
            costs=yuan("24,000.00"),
            penalty=yuan("6,000.00"),
            cash_lag=3,
            note="抵押厂房经法院拍卖，银行追回 80 万元；扣除双方认可的追索费用 2.4 万元、违约金 0.6 万元后，"
                 "先偿还银行承担部分，余额补回风险补偿金（第二十八条）",
            cash_note="银行划回应补回风险补偿金的部分",
        ),
        notes={
            "overdue": "罕山乳业到期未能归还本金 150 万元及利息，逾期开始",
            "confirmation": "领导小组办公室核实逾期事实",
            "claim": "逾期满一个月，合作银行提出代偿申请（本金、利息、复利、罚息）；市金融办审核同意",
            "compensation": "助保金余额不足：助保金付尽全部余额，不足部分由风险补偿金与银行各承担 50%，"
                            "银行承担部分记入 bank_share（第九条、第二十七条）",
            "blacklist": "领导小组办公室与合作银行共同核查：罕山乳业恶意逃废债务，列入黑名单，今后不再受理其贷款申请",
        },
    )
    return [
        s.loan("WL-2024-001", "E-WL-001", "1,000,000.00", D(2024, 1, 29), spread=65, renewals=((12, "0"),),
               outcome="open", collateral="600,000.00", guarantor="王某某（法定代表人）及配偶",
               notes={"approval": "洮儿河米业：市金融办出具风险补偿备案通知书，通知企业缴纳 2% 助保金"},
               renewal_note="续贷为新的贷款年度，续贷前按续贷金额再缴 2% 助保金（第六条“每年”）"),
        s.loan("WL-2024-002", "E-WL-002", "2,000,000.00", D(2024, 3, 4), spread=40,
               repayments=((D(2024, 9, 4), "500,000.00"),), collateral="1,200,000.00",
               guarantor="李某某（实际控制人）", notes={"approval": "兴安绿源：约定分次还款（第十七条）"}),
        s.loan("WL-2024-003", "E-WL-003", "1,500,000.00", D(2024, 4, 8), spread=65, outcome=default_b,
               collateral="900,000.00", guarantor="张某某（法定代表人、主要股东）"),
        s.loan("WL-2024-004", "E-WL-004", "800,000.00", D(2024, 5, 13), spread=85, collateral="400,000.00",
               guarantor="刘某某（法定代表人）及配偶"),
        s.loan("WL-2024-005", "E-WL-005", "3,000,000.00", D(2024, 6, 11), spread=35,
               increases=((D(2024, 11, 11), "1,000,000.00"),), renewals=((12, "0"),), outcome="open",
               collateral="2,000,000.00", guarantor="陈某某（实际控制人）",
               increase_note="天骄建材增加贷款金额 100 万元，按增加金额补缴 2%，追加抵押",
               renewal_note="天骄建材续贷 400 万元，续贷前缴纳 2% 助保金 8 万元"),
        s.loan("WL-2024-006", "E-WL-006", "500,000.00", D(2024, 7, 8), term=6, spread=85, collateral="300,000.00",
               guarantor="赵某某（法定代表人）"),
        s.loan("WL-2024-007", "E-WL-007", "1,200,000.00", D(2024, 8, 19), spread=65, collateral="800,000.00",
               guarantor="孙某某（法定代表人）及配偶"),
        s.loan("WL-2024-008", "E-WL-008", "2,500,000.00", D(2024, 9, 23), spread=40, renewals=((12, "500,000.00"),),
               outcome="open", collateral="1,500,000.00", guarantor="周某某（主要股东）",
               renewal_note="蒙源饲料到期先还 50 万元，余 200 万元续贷，按续贷金额缴纳 2%"),
        s.loan("WL-2024-009", "E-WL-009", "600,000.00", D(2024, 11, 4), spread=85, collateral="300,000.00",
               guarantor="吴某某（法定代表人）"),
        s.loan("WL-2025-001", "E-WL-010", "1,000,000.00", D(2025, 2, 17), spread=45, outcome="open",
               collateral="500,000.00", guarantor="郑某某（法定代表人）"),
        s.loan("WL-2025-002", "E-WL-011", "2,000,000.00", D(2025, 3, 24), spread=45, outcome="open",
               collateral="1,000,000.00", guarantor="冯某某（实际控制人）及配偶"),
        s.loan("WL-2025-003", "E-WL-012", "1,500,000.00", D(2025, 5, 26), spread=45, outcome="open",
               collateral="800,000.00", guarantor="韩某某（法定代表人）"),
        s.loan("WL-2025-004", "E-WL-006", "800,000.00", D(2025, 7, 14), spread=65, outcome="open",
               collateral="400,000.00", guarantor="赵某某（法定代表人）",
               notes={"approval": "红城商贸上笔贷款按期结清，再次获批"}),
        s.loan("WL-2025-005", "E-WL-013", "3,000,000.00", D(2025, 8, 25), spread=30, outcome="open",
               collateral="1,800,000.00", guarantor="包某某（实际控制人）"),
        s.loan("WL-2025-006", "E-WL-014", "1,200,000.00", D(2025, 10, 27), spread=65, outcome="open",
               collateral="600,000.00", guarantor="何某某（法定代表人）"),
    ]


# --------------------------------------------------------------------------------------
# Putting it together.


class DemoHooks(Hooks):
    def compensated(self, code: str, day: datetime.date, plan: Waterfall) -> None:
        self.plans.append((code, day, plan))

    def __init__(self, book: Book) -> None:
        super().__init__(book)
        self.plans: list[tuple[str, datetime.date, Waterfall]] = []


def build_demo(rules: Path = RULES) -> dict[str, str]:
    """The demo ledger's files: relative path -> text."""
    rulebook = load_rules(str(rules))
    sink = DemoSink()
    book = Book(rulebook, sink)
    cal = workdays()
    timeline = Timeline()
    hooks = DemoHooks(book)

    for code in ("CQGX", "WLHT"):
        style = STYLES[code]
        pool = load_pool_config(POOLS / f"{code.lower()}.yaml")
        book.open_accounts(
            code,
            START,
            note=f"{style.name}助保贷资金池：专户（上级账户）、两项资金、资金来源与运用；"
            "导入对账单时待查明收支的对方账户（docs/importing.md）",
            extra=((pool.unidentified_income, "待查明收入（对方账户）"), (pool.unidentified_expense, "待查明支出（对方账户）")),
        )

    def opening(day: datetime.date) -> None:
        book.program_open(
            "CQGX", day, "重庆高新区创新服务中心与建设银行重庆高新区支行《“助保贷”业务合作协议》（2024年1月）",
            note="新一轮合作：在建设银行重庆高新区支行开设助保金专户（第七条）",
        )
        book.program_open(
            "WLHT", day, "乌兰浩特市人民政府与建设银行乌兰浩特分行《“助保贷”业务合作协议》（2024年1月）",
            note="市政府与合作银行签订合作协议，市金融办在合作银行开设专户（第七条、第十八条）",
        )

    timeline.at(START, opening, Timeline.PROGRAM)
    timeline.at(D(2024, 1, 10), lambda d: book.injection(
        d, "CQGX", yuan("8,000,000.00"), "注入风险补偿金（首期）", letter="高新财发〔2024〕3号",
        note="创新服务中心按第六条注入风险补偿金 800 万元（原则上不低于贷款余额的 10%，总规模不超过 5000 万元）",
    ), Timeline.PROGRAM)
    timeline.at(D(2024, 1, 12), lambda d: book.injection(
        d, "WLHT", yuan("3,000,000.00"), "注入风险补偿铺底资金", letter="乌财金〔2024〕2号",
        note="市财政注入风险补偿铺底资金 300 万元（第五条：不低于预计当年业务量的 10%，贷款最多放大 10 倍）",
    ), Timeline.PROGRAM)
    timeline.at(D(2024, 1, 12), lambda d: book.register(
        d, "program", "plan", "WLHT",
        {"expected_volume": yuan("18,000,000.00"), "year": 2024, "letter": "乌金融办函〔2024〕1号"},
        code="WLHT", note="合作银行预计 2024 年办理助保贷 1800 万元，铺底资金 300 万元不低于其 10%",
    ), Timeline.PROGRAM)
    timeline.at(D(2025, 1, 6), lambda d: book.register(
        d, "program", "plan", "WLHT",
        {"expected_volume": yuan("22,000,000.00"), "year": 2025, "letter": "乌金融办函〔2025〕1号"},
        code="WLHT", note="2025 年预计业务量 2200 万元",
    ), Timeline.PROGRAM)
    timeline.at(D(2025, 1, 15), lambda d: book.injection(
        d, "CQGX", yuan("4,000,000.00"), "追加注入风险补偿金", letter="高新财发〔2025〕6号",
        note="贷款余额增长，创新服务中心追加注入 400 万元（累计 1200 万元）",
    ), Timeline.PROGRAM)
    timeline.at(D(2025, 5, 12), lambda d: book.injection(
        d, "WLHT", yuan("1,000,000.00"), "补充风险补偿铺底资金", letter="乌财金〔2025〕11号",
        note="罕山乳业逾期即将代偿，市财政补充铺底资金 100 万元，保持不低于预计业务量的 10%",
    ), Timeline.PROGRAM)

    # Enterprises enter the register (and, for a later loan, bring their facts up to date).
    for code, firms in FIRMS.items():
        for k, firm in enumerate(firms):
            facts = {"credit_code": credit_code(STYLES[code].region_code, 700 + k + (0 if code == "CQGX" else 100)), **firm.facts}
            timeline.at(firm.registered, lambda d, c=code, f=firm, m=facts: book.enterprise(
                c, f.id, d, f.name, note=f.note, **m), Timeline.PROGRAM)
    timeline.at(D(2025, 3, 3), lambda d: book.register(
        d, "enterprise", "update", "E-CQ-004",
        {"revenue": yuan("7,420,000.00"), "revenue_year": 2024}, code="CQGX",
        note="西永精工报送 2024 年度营业收入 742 万元（优质科技型企业条件按上一年度核对）",
    ), Timeline.PROGRAM)
    timeline.at(D(2025, 10, 13), lambda d: book.register(
        d, "enterprise", "update", "E-CQ-009",
        {"revenue": yuan("6,180,000.00"), "revenue_year": 2024}, code="CQGX",
        note="陶然检测报送 2024 年度营业收入 618 万元，再次申请前更新",
    ), Timeline.PROGRAM)
    timeline.at(D(2025, 5, 12), lambda d: book.register(
        d, "enterprise", "update", "E-CQ-002",
        {"hightech_cert": "GR202551100188", "hightech_until": D(2028, 10, 31)}, code="CQGX",
        note="科睿智感通过高新技术企业重新认定，更新证书",
    ), Timeline.PROGRAM)

    scenario = Scenario(book)
    specs = cq_loans(scenario) + wl_loans(scenario)
    for spec in specs:
        steps = loan_steps(spec, book, cal, END)
        timeline.loan(book, LoanRun(spec, steps), hooks)
    for code in ("CQGX", "WLHT"):
        timeline.quarterly(book, code, START, END)
    timeline.run()

    _check_story(hooks)
    files = sink.texts()
    files["main.beancount"] = main_file(list(files))
    return dict(sorted(files.items()))


def _check_story(hooks: DemoHooks) -> None:
    """The scenario's two compensations must tell the story the docstring promises."""
    if len(hooks.plans) != 2:
        raise GenerationError(f"演示账本应有两笔代偿，实有 {len(hooks.plans)} 笔")
    plans = {code: plan for code, _, plan in hooks.plans}
    a, b = plans.get("CQGX"), plans.get("WLHT")
    if a is None or b is None:
        raise GenerationError("演示账本两个项目应各有一笔代偿")
    if a.shortfall != 0:
        raise GenerationError(f"重庆高新区的代偿应由助保金全额承担，实际不足 {a.shortfall}")
    if not (b.shortfall > 0 and b.risk > 0 and b.bank > 0 and b.uncovered == 0):
        raise GenerationError(f"乌兰浩特市的代偿应用尽助保金并由风险补偿金分担：{b}")


def write_demo(directory: Path, force: bool = False) -> list[Path]:
    """Write the demo into ``directory``; existing files are kept unless ``force``."""
    return _write_files(directory, build_demo(), force)


# --------------------------------------------------------------------------------------
# A demo of any program, from rules.yaml alone.

PROGRAM_DEMO_LOANS = 40
PROGRAM_DEMO_SEED = 1
PROGRAM_DEMO_START = datetime.date(2024, 1, 1)
PROGRAM_DEMO_END = datetime.date(2025, 12, 31)

PROGRAM_MAIN = """\
; {title}（演示账本）：由 rules.yaml 中项目 {code} 的规则生成的合成账本，{start} 至 {end}。
; {folder}/accounts.beancount 为账户，{folder}/<年>.beancount 为当年的登记簿（custom）与资金分录；企业名称均为虚构。
; 由 python -m zhubaodai.scripts.gen_demo --program {code} 生成（随机种子 {seed}，{loans} 笔贷款）。
option "title" "{quoted}（演示）"
option "operating_currency" "CNY"
plugin "zhubaodai.plugin" "{{'rules': '{rules}'}}"
{start} custom "fava-option" "language" "zh"
{start} custom "fava-option" "locale" "zh_CN"
{start} custom "fava-option" "default-page" "extension/Zbd1Pool/"
{start} custom "fava-extension" "zhubaodai.fava"

{includes}"""


class ProgramDemoSink:
    """Routes a generated program's directives to ``<code>/accounts.beancount`` and
    ``<code>/<year>.beancount`` (lower-case code), with a heading per quarter."""

    def __init__(self, program: Any) -> None:
        self.program = program
        self.folder = program.code.lower()
        self.files: dict[str, list[str]] = {}
        self._quarter: dict[str, tuple[int, int]] = {}

    def _file(self, path: str, what: str) -> list[str]:
        chunks = self.files.get(path)
        if chunks is None:
            head = f"{self.program.name} · {what}\n依据：{self.program.document}\n由 rules.yaml 生成的合成演示账本，企业与函件均为虚构。"
            chunks = self.files[path] = [comment_lines(head) + "\n"]
        return chunks

    def write(self, code: str | None, day: datetime.date, text: str, section: str = "journal") -> None:
        if section == "accounts":
            self._file(f"{self.folder}/accounts.beancount", "账户").append(text + "\n")
            return
        path = f"{self.folder}/{day.year}.beancount"
        chunks = self._file(path, f"{day.year} 年登记簿与资金分录")
        quarter = quarter_of(day)
        if self._quarter.get(path) != quarter:
            self._quarter[path] = quarter
            chunks.append(f";; ===== {quarter[0]}年第{QUARTERS[quarter[1]]}季度 =====\n\n")
        chunks.append(text + "\n")


def build_program_demo(
    code: str,
    directory: Path,
    *,
    rules: Path = RULES,
    seed: int = PROGRAM_DEMO_SEED,
    loans: int = PROGRAM_DEMO_LOANS,
) -> dict[str, str]:
    """The files of a demo of ``code`` (relative path -> text): a synthetic run of the
    program alone (:class:`zhubaodai.scripts.synth.ProgramSynthesizer`, fixed seed), from
    2024 to 2025, or from the program's first day for a year where its rules start later."""
    import random

    from zhubaodai.core.rules import RulesError
    from zhubaodai.scripts import synth
    from zhubaodai.scripts.ledgergen import portable_rules_path

    try:
        rulebook = load_rules(str(rules))
    except RulesError as exc:
        raise GenerationError(str(exc)) from None
    except OSError as exc:
        raise GenerationError(f"无法读取规则文件 {rules}：{exc.strerror}") from None
    if code not in rulebook.programs:
        raise GenerationError(f"规则文件 {rules} 中没有项目 {code}（可用：{'、'.join(rulebook.programs)}）")
    if loans < 1:
        raise GenerationError(f"贷款笔数应为正整数：{loans}")
    program = rulebook.programs[code]
    cal = workdays()
    first = synth.first_day(program)
    start, end = PROGRAM_DEMO_START, PROGRAM_DEMO_END
    if first > end - datetime.timedelta(days=240):
        start = first
        end = min(first + datetime.timedelta(days=365), datetime.date(cal.last_year, 12, 31))
    if first > end - datetime.timedelta(days=120):
        raise GenerationError(f"项目 {code} 的规则自 {first} 起适用，工作日历只到 {cal.last_year} 年，无法生成演示账本")
    sink = ProgramDemoSink(program)
    book = Book(rulebook, sink)
    synth.ProgramSynthesizer(
        book, random.Random(seed), (code,), start=start, end=end, transactions=None, loans=loans
    ).run()
    files = {path: "".join(chunks).rstrip("\n") + "\n" for path, chunks in sink.files.items()}
    years = sorted(p for p in files if not p.endswith("accounts.beancount"))
    order = [f"{sink.folder}/accounts.beancount", *years]
    includes = "".join(f'include "{p}"\n' for p in order)
    files["main.beancount"] = PROGRAM_MAIN.format(
        title=program.name, quoted=program.name.replace("\\", "\\\\").replace('"', '\\"'), code=code, folder=sink.folder, start=start, end=end, seed=seed, loans=loans,
        rules=portable_rules_path(Path(rules), directory / "main.beancount").as_posix(), includes=includes,
    )
    return dict(sorted(files.items()))


def _write_files(directory: Path, files: dict[str, str], force: bool) -> list[Path]:
    targets = [directory / rel for rel in files]
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        shown = "、".join(str(p) for p in existing[:3]) + ("等" if len(existing) > 3 else "")
        raise GenerationError(f"文件已存在：{shown}；如需覆盖请加 --force")
    for path, text in zip(targets, files.values()):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8", newline="\n")
        os.replace(tmp, path)
    return targets


def write_program_demo(
    code: str,
    directory: Path,
    *,
    rules: Path = RULES,
    seed: int = PROGRAM_DEMO_SEED,
    loans: int = PROGRAM_DEMO_LOANS,
    force: bool = False,
) -> list[Path]:
    """Write a demo of ``code`` into ``directory`` (main.beancount and a folder per
    program); existing files are kept unless ``force``; never into the project's ledger/."""
    if directory.resolve() == LEDGER_DIR.resolve():
        # ledger/ holds the curated demo (main.beancount) and the hand-written shapes demo
        # (ledger/<code>/): a generated demo never replaces them, --force or not.
        raise GenerationError(f"{directory} 是本项目的精编演示账本目录，请另选目录")
    files = build_program_demo(code, directory, rules=rules, seed=seed, loans=loans)
    return _write_files(directory, files, force)


class _ChineseError(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:  # noqa: ARG002
        click.echo(f"错误：{self.message}", err=True)


@click.command(cls=ChineseCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--output", "-o", type=click.Path(file_okay=False), default=None,
              help=f"写入的目录（默认 {LEDGER_DIR}；给出 --program 时必填）")
@click.option("--force", is_flag=True, help="覆盖已存在的文件")
@click.option("--program", "-p", default=None, metavar="代码",
              help="为 rules.yaml 中的某个项目生成合成演示账本（只依据规则，无须改代码）")
@click.option("--rules", type=click.Path(dir_okay=False), default=None,
              help="与 --program 同用：读取的 rules.yaml（默认本项目的）")
@click.option("--loans", type=int, default=PROGRAM_DEMO_LOANS, show_default=True, help="与 --program 同用：贷款笔数")
@click.option("--seed", type=int, default=PROGRAM_DEMO_SEED, show_default=True, help="与 --program 同用：随机种子")
def main(output: str | None, force: bool, program: str | None, rules: str | None, loans: int, seed: int) -> None:
    """生成演示账本：不带 --program 时为重庆高新区、乌兰浩特市两个项目 2024—2025 年的精编演示账本；
    带 --program 代码 时为该项目按 rules.yaml 生成的合成演示账本。"""
    try:
        if program is None:
            if rules is not None:
                raise GenerationError("--rules 只能与 --program 同用")
            target = output or str(LEDGER_DIR)
            written = write_demo(Path(target), force=force)
        else:
            if output is None:
                raise GenerationError("请用 --output 指定写入的目录")
            target = output
            written = write_program_demo(
                program, Path(output), rules=Path(rules).resolve() if rules else RULES, seed=seed, loans=loans, force=force
            )
    except GenerationError as exc:
        raise _ChineseError(str(exc)) from None
    except OSError as exc:
        raise _ChineseError(f"无法写入 {output}：{exc.strerror or exc}") from None
    click.echo(f"已写入 {len(written)} 个文件到 {target}", err=True)


if __name__ == "__main__":
    # The imported module's main (one copy of zhubaodai.scripts.ledgergen's classes).
    from zhubaodai.scripts.gen_demo import main as _main

    _main()
