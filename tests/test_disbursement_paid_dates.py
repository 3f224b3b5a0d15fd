"""The day the bank paid (到账日期): declared by each result format, read, and what the
statistics say when a format has none."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from juesuan.disbursement import model, statistics
from juesuan.disbursement.banks import (
    PAID,
    RETURNED,
    BatchHeader,
    Outcome,
    check_adapter,
    get_adapter,
    read_results,
    write_results,
)
from juesuan.disbursement.model import Month, PaymentKey, person_key
from juesuan.ledger.load import load
from juesuan.performance import evaluate_performance
from juesuan.performance.measures import Unavailable
from juesuan.rules.engine import INSUFFICIENT

from conftest import write_dataset

HEADER = BatchHeader(
    "泸州市社会保险事业管理局", "51001234567890", "工商银行", "LZSB", "B1", "QYJS",
    Month(2020, 3), date(2020, 3, 20),
)  # fmt: skip


def ref(n: int) -> str:
    return PaymentKey("QYJS", f"1101051949{n:08d}", Month(2020, 3), 1).reference(person_key(n))


ANSWERS = [
    Outcome(ref(1), 110000, PAID, paid_on=date(2020, 3, 19)),
    Outcome(ref(2), 98050, PAID, paid_on=date(2020, 3, 23)),
    Outcome(ref(3), 5000, RETURNED, "AC01"),
]
RESULT_NAMES = {"generic-csv": "r.csv", "excel": "r.xlsx", "pain001": "r.xml", "fixed-txt": "r.ret"}


@pytest.mark.parametrize("adapter_id", ["generic-csv", "excel", "pain001"])
def test_formats_with_a_paid_date_give_each_row_its_day(tmp_path: Path, adapter_id: str) -> None:
    adapter = get_adapter(adapter_id)
    assert adapter.paid_date_source  # the adapter says where the day is
    path = tmp_path / RESULT_NAMES[adapter_id]
    assert write_results(adapter, HEADER, ANSWERS, path).ok
    read = read_results(adapter, path)
    assert read.ok, read.problems
    assert [r.paid_on for r in read.rows] == [date(2020, 3, 19), date(2020, 3, 23), None]


def test_the_fixed_width_format_has_no_paid_date(tmp_path: Path) -> None:
    adapter = get_adapter("fixed-txt")
    assert adapter.paid_date_source == ""
    path = tmp_path / "r.ret"
    assert write_results(adapter, HEADER, ANSWERS, path).ok
    assert [r.paid_on for r in read_results(adapter, path).rows] == [None, None, None]


def _csv(tmp_path: Path, day: str, *, with_column: bool = True) -> Path:
    titles = "业务编号,姓名,收款账号,金额,处理结果,失败原因,银行流水号" + (
        ",到账日期" if with_column else ""
    )
    row = f"{ref(1)},张三,6222,1100.00,成功,,S1" + (f",{day}" if with_column else "")
    path = tmp_path / "r.csv"
    path.write_bytes(f"{titles}\r\n{row}\r\n合计,1,1100.00\r\n".encode("gb18030"))
    return path


def test_a_day_that_is_not_a_date_is_refused_with_its_line_and_the_format(tmp_path: Path) -> None:
    read = read_results(get_adapter("generic-csv"), _csv(tmp_path, "2020/03/19"))
    assert not read.ok and not read.rows
    [problem] = read.problems
    assert (problem.line, problem.column, problem.snippet) == (2, "到账日期", "2020/03/19")
    assert "2020-03-20 这样" in problem.message


def test_a_csv_result_without_the_date_column_is_read_without_days(tmp_path: Path) -> None:
    read = read_results(get_adapter("generic-csv"), _csv(tmp_path, "", with_column=False))
    assert read.ok and [r.paid_on for r in read.rows] == [None]


def test_an_adapter_must_say_how_its_bank_writes_the_day(tmp_path: Path) -> None:
    text = (Path(get_adapter("generic-csv").source)).read_text(encoding="utf-8")
    broken = tmp_path / "generic-csv.yaml"
    broken.write_text(text.replace(', date_format: "%Y-%m-%d"', ""), encoding="utf-8")
    adapter, problems = check_adapter(broken)
    assert adapter is None
    assert [p.column for p in problems] == ["result.columns[7].date_format"]
    broken.write_text(text.replace("%Y-%m-%d", "%Y-%m"), encoding="utf-8")
    assert check_adapter(broken)[0] is None
    broken.write_text(text.replace('"%Y-%m-%d"', '"%Y%m%d"'), encoding="utf-8")
    adapter, problems = check_adapter(broken)
    assert not problems and adapter.result.paid_date.date_format == "%Y%m%d"


def _payment(n: int, status: str, paid_on: date | None) -> model.Payment:
    key = PaymentKey("QYJS", f"1101051949{n:08d}", Month(2020, 3), 1)
    return model.Payment(key, "张三", "工商银行", "6222", "张三", 110000, status, paid_on=paid_on)


SCHEMES = {"QYJS": model.Scheme("QYJS", "企业退休教师补贴", 20, (), project="生活补贴")}


def test_the_rate_is_known_only_when_every_paid_payment_has_the_bank_s_day() -> None:
    dated = [_payment(1, model.PAID, date(2020, 3, 19)), _payment(2, model.PAID, date(2020, 3, 23))]
    [figures] = statistics.monthly_figures(dated, SCHEMES, Month(2020, 3))
    assert figures.on_time_rate == Decimal(50) and figures.on_time_unknown == ""
    undated = [*dated, _payment(3, model.PAID, None)]
    [figures] = statistics.monthly_figures(undated, SCHEMES, Month(2020, 3))
    assert figures.undated == 1
    assert figures.on_time_rate is None and figures.on_time_unknown == "无银行到账日期"


def test_the_performance_rate_says_there_is_no_bank_date_instead_of_a_figure(
    tmp_path: Path,
) -> None:
    payments = [_payment(1, model.PAID, None), _payment(2, model.RETURNED, None)]
    measures = statistics.performance_measures(
        statistics.yearly_figures(payments, SCHEMES, 2020), SCHEMES
    )
    project = "生活补贴"
    assert measures[(project, "发放笔数")] == 2
    assert isinstance(measures[(project, "按时发放笔数")], Unavailable)
    indicators = (
        "项目名称,一级指标,二级指标,三级指标,方向,指标值,计量单位,实际完成值,实际值来源\n"
        f"{project},产出指标,时效指标,按时发放率,≥,95,%,100,计算:按时发放率\n"
    )
    dataset, _ = load(
        write_dataset(
            tmp_path,
            indicators=indicators,
            # the typed figure must not stand in for the one the bank did not give
            performance_data=f"项目名称,数据项,数值\n{project},按时发放笔数,2\n",
        )
    )
    result = evaluate_performance(dataset, measures=measures)
    computed = next(o for o in result.outcomes if o.rule == "PERF-actual-computed")
    assert computed.status == INSUFFICIENT
    assert "无银行到账日期" in computed.message
