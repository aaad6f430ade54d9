"""Record functions: the record's id and its created and last-modified times.

They read the :class:`RecordInfo` the caller passes with the values (the grid passes each row's id,
``created_at`` and ``updated_at``); without one they are blank.
"""

from __future__ import annotations

from crm_lib.formulas.engine import Batch, Column, Step
from crm_lib.formulas.registry import register
from crm_lib.formulas.values import ErrorValue, ValueType

T = ValueType


@register(
    "record",
    params=[],
    result=T.ANY,
    column_form=True,
    reads_record=True,
    examples=[("RECORD_ID()", None)],
)
def RECORD_ID(call: Step, batch: Batch) -> Column:
    """The record's id."""
    return Column([batch.record(i).id for i in range(batch.n)])


@register(
    "record",
    params=[],
    result=T.DATETIME,
    column_form=True,
    reads_record=True,
    examples=[("CREATED_TIME()", None)],
)
def CREATED_TIME(call: Step, batch: Batch) -> Column:
    """When the record was created."""
    return Column([batch.record(i).created_time for i in range(batch.n)])


@register(
    "record",
    params=[("fields...", T.ANY)],
    result=T.DATETIME,
    column_form=True,
    reads_record=True,
    examples=[("LAST_MODIFIED_TIME()", None)],
)
def LAST_MODIFIED_TIME(call: Step, batch: Batch) -> Column:
    """When the record (or, given field names, the latest of those fields) was last changed."""
    names = [arg.name for arg in call.args if hasattr(arg, "name")]  # type: ignore[attr-defined]
    if len(names) != len(call.args):  # type: ignore[attr-defined]
        error = ErrorValue("LAST_MODIFIED_TIME takes field references like {Status}", call.position)
        return Column([error] * batch.n, True)
    out: list[object] = []
    for index in range(batch.n):
        info = batch.record(index)
        if not names:
            out.append(info.last_modified_time)
            continue
        times = info.field_modified_times or {}
        known = [times[name] for name in names if name in times]
        out.append(max(known) if known else info.created_time)
    return Column(out)
