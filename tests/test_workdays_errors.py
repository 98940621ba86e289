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


def _year(year: int, workdays: str = "[]") -> str:
    return (
        GOOD.replace("2024", str(year)).replace("〔2023〕", "〔2000〕")
        .replace(f"workdays: [{year}-02-04, {year}-02-18]", f"workdays: {workdays}")
    )


NO_HOLIDAYS = GOOD.replace("      春节: [2024-02-10, 2024-02-17]\n", "").replace("    holidays:\n", "    holidays: {}\n")
SECOND_YEAR = "  2025:\n    notice: 国办发明电〔2024〕12号\n    holidays:\n      春节: [2024-02-10, 2024-02-10]\n    workdays: []\n"


@pytest.mark.parametrize(
    ("broken", "text"),
    [
        (_year(1949), "calendar.yaml:3: 工作日历有误（years.1949）：年份应为四位整数"),
        (_year(2200), "calendar.yaml:3: 工作日历有误（years.2200）：年份应为四位整数"),
        (GOOD.replace("  2024:", "  abc:"), "calendar.yaml:3: 工作日历有误（years.abc）：年份应为四位整数"),
        (GOOD.replace("  2024:", "  TRUE:"), "calendar.yaml:3: 工作日历有误（years.True）：年份应为四位整数"),
        ("schema: 1\nyears:\n  2024: 国办\n",
         "calendar.yaml:3: 工作日历有误（years.2024）：应为映射：notice、title、published、holidays、workdays"),
        (NO_HOLIDAYS, "calendar.yaml:5: 工作日历有误（years.2024.holidays）：应为映射：节日名: [首日, 末日]"),
        (GOOD.replace("[2024-02-10, 2024-02-17]", "[2024-02-10, abc]"),
         "calendar.yaml:6: 工作日历有误（years.2024.holidays.春节）：应为日期 YYYY-MM-DD，而非 'abc'"),
        (GOOD.replace("    notice: 国办发明电〔2023〕7号\n", ""), "calendar.yaml:4: 工作日历有误（years.2024.notice）：缺少必填的键"),
        (GOOD.replace("国办发明电〔2023〕7号", "12"), "calendar.yaml:4: 工作日历有误（years.2024.notice）：应为非空文字"),
        (GOOD.replace("    holidays:", "    title: 123\n    holidays:"),
         "calendar.yaml:5: 工作日历有误（years.2024.title）：应为非空文字"),
        (GOOD.replace("[2024-02-04, 2024-02-18]", "[2026-02-07]"),
         "calendar.yaml:7: 工作日历有误（years.2024.workdays）：日期 2026-02-07 不在 2024 年或相邻年份"),
        (GOOD.replace("[2024-02-04, 2024-02-18]", "[x]"),
         "calendar.yaml:7: 工作日历有误（years.2024.workdays）：应为日期 YYYY-MM-DD，而非 'x'"),
        ("schema: 1\nyears: {}\n", "calendar.yaml:2: 工作日历有误（years）：应为映射：年份: 当年的放假安排"),
        ("schema: 1\n", "calendar.yaml:1: 工作日历有误（(根)）：文件应为映射，包含且仅包含 schema 与 years"),
        ("- 1\n", "calendar.yaml:1: 工作日历有误（(根)）：文件应为映射，包含且仅包含 schema 与 years"),
        (GOOD + SECOND_YEAR, "calendar.yaml:8: 工作日历有误（years.2025）：2024-02-10 已在 2024 年的通知中列出"),
    ],
)
def test_every_calendar_check_says_where_and_what(broken: str, text: str) -> None:
    with pytest.raises(CalendarFileError) as info:
        parse_calendar(broken)
    assert str(info.value) == text


def test_unparsable_calendar_yaml() -> None:
    with pytest.raises(CalendarFileError) as info:
        parse_calendar("schema: 1\nyears:\n  2024: [\n", "cal.yaml")
    assert (info.value.filename, info.value.line, info.value.key) == ("cal.yaml", 4, "YAML")
    assert str(info.value).startswith("cal.yaml:4: 工作日历有误（YAML）：无法解析：")


def test_years_just_inside_the_range_and_the_title() -> None:
    assert parse_calendar(_year(1950)).table_years == [1950]
    assert parse_calendar(_year(2199)).table_years == [2199]
    cal = parse_calendar(GOOD.replace("    holidays:", "    title: 国务院办公厅关于2024年部分节假日安排的通知\n    holidays:"))
    assert cal.notices[2024].title == "国务院办公厅关于2024年部分节假日安排的通知"
    assert parse_calendar(GOOD).notices[2024].title == ""
    assert str(parse_calendar(GOOD, "x.yaml").path) == "x.yaml"


TWO_HOLIDAYS = GOOD.replace(
    "      春节: [2024-02-10, 2024-02-17]\n", "      春节: [2024-02-10, 2024-02-17]\n      国庆节: [2024-10-01, 2024-10-07]\n"
)
TITLE_FIRST = GOOD.replace("    notice:", "    title: 通知\n    notice:")


@pytest.mark.parametrize(
    ("broken", "text"),
    [
        # A key that is not the first of its mapping: the line is that key's own.
        (TITLE_FIRST.replace("国办发明电〔2023〕7号", "国务院通知"),
         "calendar.yaml:5: 工作日历有误（years.2024.notice）：应注明国务院办公厅通知的文号，如 国办发明电〔2023〕7号"),
        (TWO_HOLIDAYS.replace("[2024-10-01, 2024-10-07]", "[2024-10-01]"),
         "calendar.yaml:7: 工作日历有误（years.2024.holidays.国庆节）：应写作 [首日, 末日]"),
        (TWO_HOLIDAYS.replace("[2024-10-01, 2024-10-07]", "[abc, 2024-10-07]"),
         "calendar.yaml:7: 工作日历有误（years.2024.holidays.国庆节）：应为日期 YYYY-MM-DD，而非 'abc'"),
        (TWO_HOLIDAYS.replace("[2024-10-01, 2024-10-07]", "[2024-10-01, abc]"),
         "calendar.yaml:7: 工作日历有误（years.2024.holidays.国庆节）：应为日期 YYYY-MM-DD，而非 'abc'"),
        (TWO_HOLIDAYS.replace("[2024-10-01, 2024-10-07]", "[2024-10-07, 2024-10-01]"),
         "calendar.yaml:7: 工作日历有误（years.2024.holidays.国庆节）：放假区间 2024-10-07 至 2024-10-01 不合理"
         "（末日应不早于首日，且不超过 15 天）"),
        ("years:\n  2024: {}\nschema: 2\n", "calendar.yaml:3: 工作日历有误（schema）：仅支持 schema: 1"),
        (GOOD.replace("[2024-02-04, 2024-02-18]", "[2024-02-05]"),
         "calendar.yaml:7: 工作日历有误（years.2024.workdays）：2024-02-05 是周一至周五，调休上班日应为周六或周日"),
        (GOOD.replace("[2024-02-04, 2024-02-18]", "[2024-02-04, 2024-02-17]"),
         "calendar.yaml:7: 工作日历有误（years.2024.workdays）：2024-02-17 既列为放假又列为调休上班"),
    ],
)
def test_errors_point_at_the_key_not_the_mapping(broken: str, text: str) -> None:
    with pytest.raises(CalendarFileError) as info:
        parse_calendar(broken)
    assert str(info.value) == text


def test_what_the_table_accepts_at_its_limits() -> None:
    # 15 days off in a row (02-10 … 02-24) is the longest span allowed.
    cal = parse_calendar(GOOD.replace("[2024-02-10, 2024-02-17]", "[2024-02-10, 2024-02-24]").replace(", 2024-02-18]", "]"))
    assert cal.notices[2024].holidays == (("春节", datetime.date(2024, 2, 10), datetime.date(2024, 2, 24)),)
    assert cal.notices[2024].year == 2024
    # workdays left empty (null) means none
    assert parse_calendar(GOOD.replace(" [2024-02-04, 2024-02-18]", "")).notices[2024].workdays == ()


def test_an_unreadable_calendar_file(tmp_path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_bytes(b"\xff\xfeschema: 1\n")
    with pytest.raises(CalendarFileError) as info:
        load_calendar(path)
    assert (info.value.filename, info.value.line, info.value.key) == (str(path), None, "文件")
    assert str(info.value) == (
        f"{path}: 工作日历有误（文件）：无法读取：'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"
    )
