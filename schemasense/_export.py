"""Exports of a contract to the validation tools users already run."""

from __future__ import annotations

from typing import Any

from ._contract import ColumnContract, Contract
from ._types import LogicalType

_PANDERA_DTYPES = {
    LogicalType.INTEGER: "Int64",
    LogicalType.FLOAT: "float64",
    LogicalType.BOOLEAN: "boolean",
    LogicalType.STRING: "str",
    LogicalType.CATEGORY: "str",
    LogicalType.DATETIME: "datetime64[ns]",
}


def to_pandera(contract: Contract) -> Any:
    """A ``pandera.DataFrameSchema`` (``coerce=True``) with the contract's rules."""
    import pandera.pandas as pa

    columns = {name: _pandera_column(pa, c) for name, c in contract.columns.items()}
    return pa.DataFrameSchema(columns, coerce=True, strict=True, name=contract.name)


def _pandera_column(pa: Any, column: ColumnContract) -> Any:
    checks = []
    if column.minimum is not None:
        checks.append(pa.Check.ge(column.minimum))
    if column.maximum is not None:
        checks.append(pa.Check.le(column.maximum))
    if column.allowed is not None and not column.categories_open:  # open: new values are no error
        checks.append(pa.Check.isin(list(column.allowed)))
    if column.pattern is not None:
        checks.append(pa.Check.str_matches(f"(?:{column.pattern})\\Z"))
    if column.nullable and column.max_null_fraction is not None:
        checks.append(_null_fraction_check(pa, column.max_null_fraction))
    dtype: Any = _PANDERA_DTYPES[column.logical_type]
    if column.datetime_candidates:  # day/month order still open: text that one candidate reads
        dtype = "str"
        checks.append(_any_format_check(pa, column.datetime_candidates))
    elif column.logical_type is LogicalType.DATETIME and column.datetime_format:
        from pandera.engines import pandas_engine

        parse = {"format": column.datetime_format}
        dtype = pandas_engine.DateTime(to_datetime_kwargs=parse)  # type: ignore[call-arg]
    return pa.Column(
        dtype,
        checks=checks,
        nullable=column.nullable,
        unique=column.unique,
        report_duplicates="exclude_first",
        required=True,
    )


def _null_fraction_check(pa: Any, cap: float) -> Any:
    from ._validate import MIN_NULL_BURST

    def within(series: Any) -> bool:
        nulls = int(series.isna().sum())
        return nulls < MIN_NULL_BURST or nulls / max(len(series), 1) <= cap

    return pa.Check(within, ignore_na=False, element_wise=False, name="max_null_fraction")


def _any_format_check(pa: Any, formats: tuple[str, ...]) -> Any:
    from ._coerce import coerce

    def readable(series: Any) -> Any:
        return coerce(series, LogicalType.DATETIME, formats).values.notna() | series.isna()

    return pa.Check(readable, ignore_na=False, name="datetime_candidates")


def to_great_expectations(contract: Contract) -> Any:
    """A Great Expectations ``ExpectationSuite`` with the contract's rules (GX imported lazily).

    GX has no expectation for "one of these date formats": a column whose day/month order is
    still open (``datetime_candidates``) gets no format expectation until it is settled.
    """
    import great_expectations as gx

    expectations: list[Any] = [
        gx.expectations.ExpectTableColumnsToMatchSet(column_set=list(contract.columns), exact_match=True)
    ]
    for name, column in contract.columns.items():
        expectations.append(gx.expectations.ExpectColumnToExist(column=name))
        if not column.nullable:
            expectations.append(gx.expectations.ExpectColumnValuesToNotBeNull(column=name))
        elif column.max_null_fraction is not None:
            expectations.append(
                gx.expectations.ExpectColumnValuesToNotBeNull(
                    column=name, mostly=1 - column.max_null_fraction
                )
            )
        if column.pattern is not None:
            expectations.append(
                gx.expectations.ExpectColumnValuesToMatchRegex(column=name, regex=f"^{column.pattern}$")
            )
        if column.minimum is not None or column.maximum is not None:
            expectations.append(
                gx.expectations.ExpectColumnValuesToBeBetween(
                    column=name, min_value=column.minimum, max_value=column.maximum
                )
            )
        if column.allowed is not None and not column.categories_open:
            expectations.append(
                gx.expectations.ExpectColumnValuesToBeInSet(column=name, value_set=list(column.allowed))
            )
        if column.unique:
            expectations.append(gx.expectations.ExpectColumnValuesToBeUnique(column=name))
        if column.datetime_format:
            expectations.append(
                gx.expectations.ExpectColumnValuesToMatchStrftimeFormat(
                    column=name, strftime_format=column.datetime_format
                )
            )
    return gx.ExpectationSuite(name=f"{contract.name}.v{contract.version}", expectations=expectations)
