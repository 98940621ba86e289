"""The working-day calendar's errors and sources, against their literal text: which file,
line and key a broken calendar.yaml names, and where a year's working days come from."""

from __future__ import annotations

import datetime

import chinese_calendar
import pytest

from conftest import ROOT
from zhubaodai.core.workdays import CalendarFileError
from zhubaodai.core.workdays import LIBRARY_ONLY
from zhubaodai.core.workdays import CalendarYearError
from zhubaodai.core.workdays import Deadline
from zhubaodai.core.workdays import check_deadline
from zhubaodai.core.workdays import WorkCalendar
from zhubaodai.core.workdays import library_version
from zhubaodai.core.workdays import load_calendar
from zhubaodai.core.workdays import parse_calendar

GOOD = """schema: 1
years:
  2024:
    notice: 国办发明电〔2023〕7号
    holidays:
      春节: [2024-02-10, 2024-02-17]
    workdays: [2024-02-04, 2024-02-18]
"""


def test_a_calendar_error_names_file_line_and_key() -> None:
    error = CalendarFileError("calendar.yaml", 7, "years.2024.workdays", "有误")
    assert (error.filename, error.line, error.key, error.message) == ("calendar.yaml", 7, "years.2024.workdays", "有误")
    assert str(error) == "calendar.yaml:7: 工作日历有误（years.2024.workdays）：有误"
    assert str(CalendarFileError("calendar.yaml", None, "文件", "找不到")) == "calendar.yaml: 工作日历有误（文件）：找不到"


@pytest.mark.parametrize(
    ("broken", "text"),
    [
        (GOOD.replace("[2024-02-10, 2024-02-17]", "[2024-02-10]"),
         "calendar.yaml:6: 工作日历有误（years.2024.holidays.春节）：应写作 [首日, 末日]"),
        (GOOD.replace("[2024-02-10, 2024-02-17]", "[2024-02-10, 2024-02-25]"),
         "calendar.yaml:6: 工作日历有误（years.2024.holidays.春节）：放假区间 2024-02-10 至 2024-02-25 不合理"
         "（末日应不早于首日，且不超过 15 天）"),
        (GOOD.replace("[2024-02-10, 2024-02-17]", "[2024-02-10, 2026-02-17]"),
         "calendar.yaml:6: 工作日历有误（years.2024.holidays.春节）：日期 2026-02-17 不在 2024 年或相邻年份"),
        (GOOD.replace("workdays: [2024-02-04, 2024-02-18]", "workdays: 2024-02-04"),
         "calendar.yaml:7: 工作日历有误（years.2024.workdays）：应为调休上班日期的列表（没有则写 []）"),
        (GOOD.replace("国办发明电〔2023〕7号", "国务院通知"),
         "calendar.yaml:4: 工作日历有误（years.2024.notice）：应注明国务院办公厅通知的文号，如 国办发明电〔2023〕7号"),
        (GOOD.replace("schema: 1", "schema: 2"), "calendar.yaml:1: 工作日历有误（schema）：仅支持 schema: 1"),
    ],
)
def test_broken_tables_name_the_line_and_the_key(broken: str, text: str) -> None:
    with pytest.raises(CalendarFileError) as info:
        parse_calendar(broken)
    assert str(info.value) == text


def test_a_missing_calendar_file(tmp_path) -> None:
    with pytest.raises(CalendarFileError) as info:
        load_calendar(tmp_path / "calendar.yaml")
    assert str(info.value) == f"{tmp_path / 'calendar.yaml'}: 工作日历有误（文件）：找不到工作日历文件"
    assert info.value.line is None


def test_where_a_year_comes_from() -> None:
    cal = load_calendar(ROOT / "calendar.yaml")
    assert library_version() == chinese_calendar.__version__
    first = min(cal.table_years)
    assert cal.source(first - 1) == f"chinesecalendar {chinese_calendar.__version__}"
    assert cal.knows(first) and cal.knows(first - 1)
    unknown = max(max(cal.table_years), WorkCalendar.library_years()[-1]) + 1
    assert not cal.knows(unknown)
    with pytest.raises(CalendarYearError) as info:
        cal.source(unknown)
    assert info.value.year == unknown


def test_a_year_in_the_table_only() -> None:
    text = GOOD.replace("workdays: [2024-02-04, 2024-02-18]", "workdays: []").replace("2024", "2150")
    cal = parse_calendar(text.replace("〔2023〕", "〔2149〕"))
    assert cal.knows(2150) and not cal.knows(2151)
    assert cal.source(2150) == "calendar.yaml（国办发明电〔2149〕7号）"
    assert not cal.is_workday(datetime.date(2150, 2, 10))  # 春节 as the table says


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


@pytest.mark.parametrize(
    ("done", "as_of", "expected"),
    [
        # Monday 2024-09-23, 5 working days: 09-24 … 09-27, Sunday 09-29 (a make-up day) is the 5th.
        ("2024-09-23", None, ("met", None, "2024-09-23")),  # done before the count starts
        ("2024-09-26", None, ("met", None, "2024-09-26")),  # done before the last day: not needed
        ("2024-09-29", None, ("met", "2024-09-29", "2024-09-29")),  # on the last day
        ("2024-09-30", None, ("late", "2024-09-29", "2024-09-30")),
        (None, None, ("pending", None, None)),  # not done, books without an end
        (None, "2024-09-27", ("pending", None, None)),  # the books end before the last day
        (None, "2024-09-29", ("pending", "2024-09-29", None)),  # … on it
        (None, "2024-09-30", ("missed", "2024-09-29", None)),  # … after it
    ],
)
def test_check_deadline_whole_answers(done: str | None, as_of: str | None, expected: tuple) -> None:
    cal = load_calendar(ROOT / "calendar.yaml")
    status, due, finished = expected
    got = check_deadline(cal, d("2024-09-23"), 5, d(done) if done else None, d(as_of) if as_of else None)
    assert got == Deadline(
        d("2024-09-23"), 5, status, d(due) if due else None, d(finished) if finished else None
    )
    assert got.failed is (status in ("late", "missed"))


def test_nth_workday_after_needs_at_least_one() -> None:
    with pytest.raises(ValueError, match="^n must be at least 1$"):
        LIBRARY_ONLY.nth_workday_after(d("2024-09-23"), 0)
    assert LIBRARY_ONLY.nth_workday_after(d("2024-09-23"), 5) == d("2024-09-29")
