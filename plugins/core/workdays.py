"""Chinese working days: weekends, statutory holidays and make-up working days (调休).

The policies set deadlines in working days (工作日): the bank informs the managing body
within 5 (CQ 第十四条) or 3 (WLHT 第二十四条) working days after a disbursement; the
guarantee fund compensates within 15 working days after the overdue facts are confirmed
(CQ 第十七条). A working day follows the State Council's yearly notice on holidays
(国务院办公厅关于××年部分节假日安排的通知): its holidays are days off even on a weekday,
its make-up working days (调休上班) are working days even on a weekend.

Two sources, cross-checked by the tests for every year both cover:

* ``calendar.yaml``, the project's own table: one entry per year citing its notice
  (国办发明电〔20xx〕x号), listing the holidays by festival and the make-up working days, so
  a new year is added the day its notice is published, without waiting for a release of
  the library::

      schema: 1
      years:
        2024:
          notice: 国办发明电〔2023〕7号
          title: 国务院办公厅关于2024年部分节假日安排的通知
          published: 2023-10-25
          holidays:
            元旦: [2024-01-01, 2024-01-01]
            春节: [2024-02-10, 2024-02-17]
          workdays: [2024-02-04, 2024-02-18]

* the maintained ``chinesecalendar`` package (``import chinese_calendar``).

The table wins for the years it lists; the library answers for the other years it
covers; a date in a year neither knows raises :class:`CalendarYearError` naming the year
(never a silent weekday guess). rules.yaml names the table (``calendar: calendar.yaml``).

A deadline of N working days after a day D counts from the day after D; the Nth working
day is the last day allowed (:func:`check_deadline`).
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from zhubaodai.core.rules import RulesError
from zhubaodai.core.rules import _Checker
from zhubaodai.core.yamlfile import LineDict
from zhubaodai.core.yamlfile import parse_yaml

ONE_DAY = datetime.timedelta(days=1)
NOTICE_RE = re.compile(r"国办发明电〔\d{4}〕\d+号")

#: Status of a deadline (see :func:`check_deadline`).
MET = "met"  # done on or before the last day allowed
LATE = "late"  # done after the last day allowed
MISSED = "missed"  # not done, and the last day allowed has passed
PENDING = "pending"  # not done, and the last day allowed has not passed yet


class CalendarFileError(RulesError):
    """calendar.yaml cannot be used: names the file, the line and the key."""

    def __init__(self, filename: str, line: int | None, key: str, message: str) -> None:
        super().__init__(filename, line, key, message)
        where = f"{filename}:{line}" if line else filename
        Exception.__init__(self, f"{where}: 工作日历有误（{key}）：{message}")


class CalendarYearError(LookupError):
    """A date falls in a year for which no holiday notice is known."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"工作日历没有 {year} 年的放假安排：请按《国务院办公厅关于{year}年部分节假日安排的通知》"
            f"在 calendar.yaml 中补充 {year} 年（节假日与调休上班日），否则无法计算工作日"
        )


@dataclass(frozen=True)
class Notice:
    """One year's State Council notice, as the project's table records it."""

    year: int
    notice: str
    title: str
    holidays: tuple[tuple[str, datetime.date, datetime.date], ...]
    workdays: tuple[datetime.date, ...]
    line: int

    def holiday_dates(self) -> set[datetime.date]:
        days: set[datetime.date] = set()
        for _, start, end in self.holidays:
            day = start
            while day <= end:
                days.add(day)
                day += ONE_DAY
        return days


@cache
def _library() -> tuple[frozenset[datetime.date], frozenset[datetime.date], range]:
    """The chinesecalendar package's data: days off, make-up working days, years covered."""
    import chinese_calendar

    holidays = frozenset(chinese_calendar.holidays)
    workdays = frozenset(chinese_calendar.workdays)
    years = range(min(holidays).year, max(holidays).year + 1)
    return holidays, workdays, years


def library_version() -> str:
    import chinese_calendar

    return getattr(chinese_calendar, "__version__", "?")


class WorkCalendar:
    """Working days from the project's table, falling back to the chinesecalendar package."""

    def __init__(self, notices: Mapping[int, Notice] | None = None, path: str | None = None) -> None:
        self.notices: dict[int, Notice] = dict(notices or {})
        self.path = path
        self._off: set[datetime.date] = set()
        self._on: set[datetime.date] = set()
        for notice in self.notices.values():
            self._off |= notice.holiday_dates()
            self._on |= set(notice.workdays)
        #: year -> working days before each day of the year (index 0: before 1 January)
        #: and in the whole year (last item), filled on first use (:meth:`_year_counts`).
        self._counts: dict[int, tuple[int, ...]] = {}

    @property
    def table_years(self) -> list[int]:
        return sorted(self.notices)

    @staticmethod
    def library_years() -> range:
        return _library()[2]

    def knows(self, year: int) -> bool:
        return year in self.notices or year in _library()[2]

    def source(self, year: int) -> str:
        """Where the working days of ``year`` come from, as users read it."""
        notice = self.notices.get(year)
        if notice is not None:
            return f"calendar.yaml（{notice.notice}）"
        if year in _library()[2]:
            return f"chinesecalendar {library_version()}"
        raise CalendarYearError(year)

    def is_workday(self, day: datetime.date) -> bool:
        """Whether ``day`` is a working day; raises :class:`CalendarYearError`."""
        if day.year in self.notices:
            if day in self._on:
                return True
            return day.weekday() < 5 and day not in self._off
        holidays, workdays, years = _library()
        if day.year not in years:
            raise CalendarYearError(day.year)
        if day in workdays:
            return True
        return day.weekday() < 5 and day not in holidays

    def nth_workday_after(self, start: datetime.date, n: int) -> datetime.date:
        """The Nth working day counted from the day after ``start`` (n >= 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        day, count = start, 0
        while count < n:
            day += ONE_DAY
            if self.is_workday(day):
                count += 1
        return day

    def workdays_in(self, start: datetime.date, end: datetime.date) -> int:
        """Working days in ``start`` (exclusive) .. ``end`` (inclusive).

        The same count as asking :meth:`is_workday` of each day (and the same
        :class:`CalendarYearError` for the first year in the range the calendar does not
        know), but from each year's running count, built once per year: a reminder years
        overdue costs two look-ups, not a walk over every day in between."""
        first = start + ONE_DAY
        if first > end:
            return 0
        if first.year == end.year:
            counts = self._year_counts(first.year)
            return counts[end.timetuple().tm_yday] - counts[first.timetuple().tm_yday - 1]
        head = self._year_counts(first.year)
        count = head[-1] - head[first.timetuple().tm_yday - 1]
        for year in range(first.year + 1, end.year):
            count += self._year_counts(year)[-1]
        return count + self._year_counts(end.year)[end.timetuple().tm_yday]

    def _year_counts(self, year: int) -> tuple[int, ...]:
        """Working days of ``year`` before each of its days (index ``n``: in its first
        ``n`` days), from :meth:`is_workday`; raises :class:`CalendarYearError`."""
        found = self._counts.get(year)
        if found is None:
            counts, count = [0], 0
            day = datetime.date(year, 1, 1)
            while day.year == year:
                count += self.is_workday(day)
                counts.append(count)
                day += ONE_DAY
            found = self._counts[year] = tuple(counts)
        return found


#: Library-only calendar, for rule books that name no table.
LIBRARY_ONLY = WorkCalendar()


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline of ``n`` working days after ``start``, and how it went."""

    start: datetime.date
    n: int
    status: str
    #: The last day allowed, where it had to be known to decide the status.
    due: datetime.date | None
    done: datetime.date | None

    @property
    def failed(self) -> bool:
        return self.status in (LATE, MISSED)


def check_deadline(
    cal: WorkCalendar,
    start: datetime.date,
    n: int,
    done: datetime.date | None,
    as_of: datetime.date | None,
) -> Deadline:
    """Whether a thing due within ``n`` working days after ``start`` was done in time.

    ``done`` is the day it was done (None: not done); ``as_of`` is the last day the books
    cover. Only the days needed to decide are looked up, so a year the calendar does not
    know raises :class:`CalendarYearError` only when the answer depends on it.
    """
    day, count = start, 0
    while True:
        day += ONE_DAY
        if done is not None and day > done:
            return Deadline(start, n, MET, None, done)
        if done is None and (as_of is None or day > as_of):
            return Deadline(start, n, PENDING, None, None)
        if cal.is_workday(day):
            count += 1
            if count == n:
                break
    if done is not None:
        return Deadline(start, n, MET if done <= day else LATE, day, done)
    return Deadline(start, n, MISSED if as_of is not None and as_of > day else PENDING, day, None)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later; a day the month lacks becomes its last day
    (2024-01-31 + 1 month = 2024-02-29; 2024-02-29 + 12 months = 2025-02-28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = _stdlib_calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(day.day, last))


# --------------------------------------------------------------------------------------
# calendar.yaml


def _fail(node: Any, filename: str, key: str, message: str, at: Any = None) -> CalendarFileError:
    line = None
    if isinstance(node, LineDict):
        line = node.key_lines.get(at, node.line) if at is not None else node.line
    return CalendarFileError(filename, line, key, message)


def _date(value: Any, node: Any, filename: str, key: str, at: Any, year: int) -> datetime.date:
    if not isinstance(value, datetime.date):
        raise _fail(node, filename, key, f"应为日期 YYYY-MM-DD，而非 {value!r}", at)
    if abs(value.year - year) > 1:
        raise _fail(node, filename, key, f"日期 {value} 不在 {year} 年或相邻年份", at)
    return value


def _load_notice(node: Any, year: Any, filename: str, line: int) -> Notice:
    path = f"years.{year}"
    if not isinstance(year, int) or isinstance(year, bool) or not 1949 < year < 2200:
        raise CalendarFileError(filename, line, path, "年份应为四位整数")
    if not isinstance(node, LineDict):
        raise CalendarFileError(filename, line, path, "应为映射：notice、title、published、holidays、workdays")
    check = _Checker(filename)
    try:
        check.keys(node, path, ("notice", "holidays", "workdays"), ("title", "published"))
        notice = check.text(node, "notice", path)
        title = check.text(node, "title", path) if "title" in node else ""
    except CalendarFileError:
        raise
    except RulesError as exc:
        raise CalendarFileError(filename, exc.line, exc.key, exc.message) from None
    if not NOTICE_RE.search(notice):
        raise _fail(node, filename, f"{path}.notice", "应注明国务院办公厅通知的文号，如 国办发明电〔2023〕7号", "notice")
    holidays_node = node["holidays"]
    if not isinstance(holidays_node, LineDict) or not holidays_node:
        raise _fail(node, filename, f"{path}.holidays", "应为映射：节日名: [首日, 末日]", "holidays")
    holidays = []
    for name, span in holidays_node.items():
        key = f"{path}.holidays.{name}"
        if not isinstance(span, list) or len(span) != 2:
            raise _fail(holidays_node, filename, key, "应写作 [首日, 末日]", name)
        start = _date(span[0], holidays_node, filename, key, name, year)
        end = _date(span[1], holidays_node, filename, key, name, year)
        if end < start or (end - start).days > 14:
            raise _fail(holidays_node, filename, key, f"放假区间 {start} 至 {end} 不合理（末日应不早于首日，且不超过 15 天）", name)
        holidays.append((str(name), start, end))
    workdays_node = node["workdays"]
    if workdays_node is None:
        workdays_node = []
    if not isinstance(workdays_node, list):
        raise _fail(node, filename, f"{path}.workdays", "应为调休上班日期的列表（没有则写 []）", "workdays")
    workdays = []
    for value in workdays_node:
        day = _date(value, node, filename, f"{path}.workdays", "workdays", year)
        if day.weekday() < 5:
            raise _fail(node, filename, f"{path}.workdays", f"{day} 是周一至周五，调休上班日应为周六或周日", "workdays")
        workdays.append(day)
    notice_obj = Notice(year, notice, title, tuple(holidays), tuple(sorted(workdays)), line)
    clash = notice_obj.holiday_dates() & set(workdays)
    if clash:
        raise _fail(node, filename, f"{path}.workdays", f"{min(clash)} 既列为放假又列为调休上班", "workdays")
    return notice_obj


def parse_calendar(text: str, filename: str = "calendar.yaml") -> WorkCalendar:
    """Validate a working-day table given as text; raises :class:`CalendarFileError`."""
    try:
        root = parse_yaml(text, filename)
    except RulesError as exc:
        raise CalendarFileError(filename, exc.line, exc.key, exc.message) from None
    if not isinstance(root, LineDict) or set(root) != {"schema", "years"}:
        raise CalendarFileError(filename, 1, "(根)", "文件应为映射，包含且仅包含 schema 与 years")
    if root["schema"] != 1:
        raise _fail(root, filename, "schema", "仅支持 schema: 1", "schema")
    years = root["years"]
    if not isinstance(years, LineDict) or not years:
        raise _fail(root, filename, "years", "应为映射：年份: 当年的放假安排", "years")
    notices: dict[int, Notice] = {}
    seen: dict[datetime.date, int] = {}
    for year, node in years.items():
        notice = _load_notice(node, year, filename, years.key_lines[year])
        for day in notice.holiday_dates() | set(notice.workdays):
            if day in seen:
                raise CalendarFileError(
                    filename, notice.line, f"years.{year}", f"{day} 已在 {seen[day]} 年的通知中列出"
                )
            seen[day] = year
        notices[year] = notice
    return WorkCalendar(notices, filename)


def load_calendar(path: str | Path) -> WorkCalendar:
    """Read and validate calendar.yaml; raises :class:`CalendarFileError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CalendarFileError(str(path), None, "文件", "找不到工作日历文件") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarFileError(str(path), None, "文件", f"无法读取：{exc}") from None
    return parse_calendar(text, str(path))
