"""Working days: the project's table of State Council notices, the chinesecalendar package,
and deadlines counted in working days over real holiday periods."""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path

import chinese_calendar
import pytest

from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import load_rules
from zhubaodai.core.rules import parse_rules
from zhubaodai.core.workdays import CalendarFileError
from zhubaodai.core.workdays import CalendarYearError
from zhubaodai.core.workdays import LATE
from zhubaodai.core.workdays import MET
from zhubaodai.core.workdays import MISSED
from zhubaodai.core.workdays import PENDING
from zhubaodai.core.workdays import WorkCalendar
from zhubaodai.core.workdays import add_months
from zhubaodai.core.workdays import check_deadline
from zhubaodai.core.workdays import load_calendar
from zhubaodai.core.workdays import parse_calendar

ROOT = Path(__file__).resolve().parent.parent
ONE_DAY = datetime.timedelta(days=1)


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def days_of(year: int):
    d = datetime.date(year, 1, 1)
    while d.year == year:
        yield d
        d += ONE_DAY


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return load_calendar(ROOT / "calendar.yaml")


def test_rules_yaml_names_the_table(cal: WorkCalendar) -> None:
    rulebook = load_rules(ROOT / "rules.yaml")
    assert rulebook.calendar is not None
    assert rulebook.calendar.table_years == cal.table_years
    assert Path(rulebook.calendar.path).resolve() == (ROOT / "calendar.yaml").resolve()


def test_every_year_cites_its_notice(cal: WorkCalendar) -> None:
    assert cal.table_years == list(range(cal.table_years[0], cal.table_years[-1] + 1)), "no year skipped"
    for year, notice in cal.notices.items():
        assert "国办发明电〔" in notice.notice, year
        assert str(year) in notice.title, year
        names = {name for name, _, _ in notice.holidays}
        assert any("春节" in n for n in names) and any("国庆" in n for n in names), year


def test_table_and_library_agree_on_every_day_both_cover(cal: WorkCalendar) -> None:
    both = [y for y in cal.table_years if y in WorkCalendar.library_years()]
    assert len(both) >= 6, "the cross-check must cover the years the project uses"
    disagree = [
        d for year in both for d in days_of(year) if cal.is_workday(d) != chinese_calendar.is_workday(d)
    ]
    assert disagree == []


def test_years_outside_the_table_come_from_the_library(cal: WorkCalendar) -> None:
    year = cal.table_years[0] - 1
    assert year in WorkCalendar.library_years()
    assert cal.source(year).startswith("chinesecalendar")
    assert all(cal.is_workday(d) == chinese_calendar.is_workday(d) for d in days_of(year))
    assert cal.source(2024) == "calendar.yaml（国办发明电〔2023〕7号）"


def test_a_year_neither_knows_is_an_error_naming_it(cal: WorkCalendar) -> None:
    unknown = max(max(cal.table_years), WorkCalendar.library_years()[-1]) + 1
    with pytest.raises(CalendarYearError) as info:
        cal.is_workday(datetime.date(unknown, 3, 2))  # a Monday or not: never guessed
    assert info.value.year == unknown
    assert f"{unknown} 年" in str(info.value) and "calendar.yaml" in str(info.value)
    with pytest.raises(CalendarYearError):
        cal.source(unknown)


def test_a_new_year_is_added_in_the_table_without_the_library() -> None:
    """A year the library does not know works as soon as the table lists it."""
    year = WorkCalendar.library_years()[-1] + 5
    text = f"""
        schema: 1
        years:
          {year}:
            notice: 国办发明电〔{year - 1}〕9号
            holidays:
              国庆节: [{year}-10-01, {year}-10-07]
            workdays: []
        """
    cal = parse_calendar(textwrap.dedent(text))
    first = datetime.date(year, 9, 30)
    due = cal.nth_workday_after(first, 1)
    assert due > datetime.date(year, 10, 7) and due.weekday() < 5
    with pytest.raises(CalendarYearError):
        cal.is_workday(datetime.date(year + 1, 1, 5))


# --- Deadlines over real holiday periods: a weekday count would give another answer. ----


@pytest.mark.parametrize(
    ("start", "n", "due", "weekday_due", "holiday"),
    [
        # WLHT 3 working days after a disbursement on the Friday before Spring Festival 2024:
        # 02-10..02-17 off, Sunday 02-18 a make-up working day.
        ("2024-02-09", 3, "2024-02-20", "2024-02-14", "春节"),
        # CQ 5 working days after Friday 2024-09-27: Sunday 09-29 worked, 10-01..10-07 off.
        ("2024-09-27", 5, "2024-10-10", "2024-10-04", "国庆节"),
        # CQ 15 working days after a confirmation on 2025-01-20, across Spring Festival 2025
        # (01-28..02-04 off, Sunday 01-26 and Saturday 02-08 worked).
        ("2025-01-20", 15, "2025-02-14", "2025-02-10", "春节"),
        # WLHT: one month after an overdue of 2024-08-30 is 2024-09-30; 3 working days.
        ("2024-09-30", 3, "2024-10-10", "2024-10-03", "国庆节"),
    ],
)
def test_deadlines_over_holidays(cal: WorkCalendar, start: str, n: int, due: str, weekday_due: str, holiday: str) -> None:
    begin = day(start)
    assert cal.nth_workday_after(begin, n) == day(due)
    weekdays, d = 0, begin
    while weekdays < n:  # what a plain weekday count would say
        d += ONE_DAY
        weekdays += d.weekday() < 5
    assert d == day(weekday_due) != day(due)
    # The last day passes, the day after fails.
    assert check_deadline(cal, begin, n, day(due), None).status == MET
    late = check_deadline(cal, begin, n, day(due) + ONE_DAY, None)
    assert late.status == LATE and late.due == day(due)
    assert cal.workdays_in(begin, day(due)) == n


def _walked(cal: WorkCalendar, start: datetime.date, end: datetime.date) -> int:
    """Working days in start (exclusive) .. end (inclusive), asking each day."""
    count, d = 0, start + ONE_DAY
    while d <= end:
        count += cal.is_workday(d)
        d += ONE_DAY
    return count


def test_working_days_between_two_days_are_counted_as_each_day_says(cal: WorkCalendar) -> None:
    """workdays_in counts from each year's running count: the same as asking each day,
    within a year, across years (table and library), backwards (0) and at the ends."""
    import random

    rnd = random.Random(9)
    first = datetime.date(cal.table_years[0] - 2, 1, 1)  # two library years, then the table
    last = datetime.date(cal.table_years[-1], 12, 31)
    span = (last - first).days
    pairs = [(day("2024-12-31"), day("2025-01-01")), (day("2024-12-30"), day("2024-12-31")),
             (day("2024-01-01"), day("2024-01-01")), (day("2024-03-01"), day("2024-02-01")),
             (first, last), (first - ONE_DAY, first)]
    for _ in range(300):
        a = first + datetime.timedelta(days=rnd.randrange(span))
        pairs.append((a, min(last, a + datetime.timedelta(days=rnd.choice((0, 1, 6, 40, 400, 1500))))))
    for start, end in pairs:
        assert cal.workdays_in(start, end) == _walked(cal, start, end), (start, end)


def test_working_days_over_a_year_neither_knows_name_the_first_such_year(cal: WorkCalendar) -> None:
    unknown = max(max(cal.table_years), WorkCalendar.library_years()[-1]) + 1
    known = datetime.date(unknown - 1, 6, 30)
    assert cal.workdays_in(known, datetime.date(unknown - 1, 12, 31)) == _walked(
        cal, known, datetime.date(unknown - 1, 12, 31)
    )
    with pytest.raises(CalendarYearError) as info:
        cal.workdays_in(known, datetime.date(unknown + 2, 1, 5))
    assert info.value.year == unknown
    # A range that starts on 31 December of an unknown year only counts from the next day.
    early = WorkCalendar.library_years()[0] - 1
    with pytest.raises(CalendarYearError):
        cal.is_workday(datetime.date(early, 12, 31))
    assert cal.workdays_in(datetime.date(early, 12, 31), datetime.date(early + 1, 1, 2)) == _walked(
        cal, datetime.date(early, 12, 31), datetime.date(early + 1, 1, 2)
    )


def test_a_deadline_counts_from_the_next_day(cal: WorkCalendar) -> None:
    # Monday 2024-03-11: the 3rd working day after is Thursday 03-14; the same day counts 0.
    assert cal.nth_workday_after(day("2024-03-11"), 3) == day("2024-03-14")
    assert check_deadline(cal, day("2024-03-11"), 3, day("2024-03-11"), None).status == MET


def test_not_done_is_pending_until_the_books_pass_the_last_day(cal: WorkCalendar) -> None:
    start = day("2024-09-27")
    assert check_deadline(cal, start, 5, None, day("2024-10-10")).status == PENDING
    missed = check_deadline(cal, start, 5, None, day("2024-10-11"))
    assert missed.status == MISSED and missed.due == day("2024-10-10")
    # Only the days needed are looked up: books ending in a known year decide without the next.
    assert check_deadline(cal, day("2024-12-30"), 5, None, day("2024-12-31")).status == PENDING


def test_add_months_keeps_the_day_or_takes_the_month_end() -> None:
    assert add_months(day("2024-03-10"), 12) == day("2025-03-10")
    assert add_months(day("2024-02-29"), 12) == day("2025-02-28")
    assert add_months(day("2024-01-31"), 1) == day("2024-02-29")
    assert add_months(day("2024-12-15"), 1) == day("2025-01-15")


# --- The table is validated like rules.yaml: clear errors with file and line. -----------


GOOD = """\
schema: 1
years:
  2024:
    notice: 国办发明电〔2023〕7号
    holidays:
      春节: [2024-02-10, 2024-02-17]
    workdays: [2024-02-04, 2024-02-18]
"""


@pytest.mark.parametrize(
    ("broken", "line", "text"),
    [
        (GOOD.replace("国办发明电〔2023〕7号", "国务院通知"), 4, "文号"),
        (GOOD.replace("2024-02-04, ", "2024-02-05, "), 7, "调休上班日应为周六或周日"),
        (GOOD.replace("[2024-02-10, 2024-02-17]", "[2024-02-17, 2024-02-10]"), 6, "末日应不早于首日"),
        (GOOD.replace("    workdays:", "    makeup:"), 7, "未知的键"),
        (GOOD.replace("2024-02-18]", "2024-02-18, 2024-02-17]"), 7, "既列为放假又列为调休上班"),
        (GOOD + "  2024:\n    notice: x\n", 8, "键重复"),
        (GOOD.replace("schema: 1", "schema: 2"), 1, "schema"),
    ],
)
def test_broken_tables_are_clear_errors(broken: str, line: int, text: str) -> None:
    with pytest.raises(CalendarFileError) as info:
        parse_calendar(broken, "calendar.yaml")
    assert info.value.line == line, str(info.value)
    assert text in str(info.value)
    assert str(info.value).startswith(f"calendar.yaml:{line}: 工作日历有误")
    assert isinstance(info.value, RulesError)  # the plugin reports it like a rules error


def test_a_date_listed_twice_is_rejected() -> None:
    twice = GOOD.replace("workdays: [2024-02-04, 2024-02-18]", "workdays: [2024-02-10]")
    with pytest.raises(CalendarFileError, match="既列为放假又列为调休上班"):
        parse_calendar(twice)


def test_rules_yaml_naming_a_missing_table_is_an_error(tmp_path: Path) -> None:
    text = (ROOT / "rules.yaml").read_text(encoding="utf-8").replace("calendar: calendar.yaml", "calendar: nowhere.yaml")
    with pytest.raises(RulesError) as info:
        parse_rules(text, str(tmp_path / "rules.yaml"))
    assert "找不到工作日历文件" in str(info.value) and "nowhere.yaml" in str(info.value)


def test_rules_yaml_without_a_table_uses_the_library_alone() -> None:
    text = (ROOT / "rules.yaml").read_text(encoding="utf-8").replace("calendar: calendar.yaml\n", "")
    assert parse_rules(text).calendar is None


def test_lateness_is_said_in_working_days() -> None:
    """A missed working-day deadline says how late in working days; a day past the
    deadline that is no working day says so; beyond the calendar, calendar days, said."""
    import datetime as dt
    from types import SimpleNamespace

    from zhubaodai.checks.deadlines import _late
    from zhubaodai.core.rules import load_rules

    ctx = SimpleNamespace(rulebook=load_rules(str(Path(__file__).resolve().parent.parent / "rules.yaml")))
    d = dt.date
    # 2024-10-01..07 is the National Day holiday; 2024-09-29 and 10-12 are make-up working days.
    # 5 working days from the day after 2024-09-27: 09-29, 09-30, 10-08, 10-09, 10-10.
    assert _late(ctx, d(2024, 9, 27), d(2024, 10, 11), 5, d(2024, 10, 10)) == "晚 1 个工作日"
    assert _late(ctx, d(2024, 9, 27), d(2024, 10, 14), 5, d(2024, 10, 10)) == "晚 3 个工作日"
    # Due Friday 2024-03-01; done Saturday 03-02: late, but by no working day.
    assert _late(ctx, d(2024, 2, 23), d(2024, 3, 2), 5, d(2024, 3, 1)) == "晚 1 天（均为非工作日）"
    # Years the calendar does not know: calendar days, said as such.
    assert _late(ctx, d(2040, 1, 2), d(2040, 1, 20), 5, d(2040, 1, 9)) == "晚 11 天（日历日；工作日历未收录其间的年份）"
