"""Airtable-compatible formulas: parse with a grammar, compile to steps, evaluate by the column.

Public API (other code and outside tests use exactly this)::

    from crm_lib.formulas import compile_formula, evaluate, FormulaError

    evaluate("ROUND({Committed} * 0.02, 2)", {"Committed": 1_250_000})    # 25000
    fee = compile_formula("ROUND({Committed} * 0.02, 2)", {"Committed": "currency"})
    fee.dependencies, fee.result_type                                     # {'Committed'}, number
    fee.evaluate_many({"Committed": [1e6, None, 3e6]})                    # [20000, 0, 60000]

Layout: ``grammar.lark`` + ``parser.py`` (text → tree), ``compiler.py`` (tree → steps, checks),
``engine.py`` (column-at-a-time runtime), ``values.py`` (Airtable's value rules), ``registry.py`` +
``functions/`` (one module per category), ``moment.py`` + ``locales.py`` (moment.js date tokens
and locales, as Airtable's DATETIME_FORMAT/DATETIME_PARSE/SET_LOCALE use them), ``graph.py``
(dependencies between formula fields), ``limits.py`` (the sandbox's caps and RE2), ``audit.py``
(the audit against Airtable's reference: docs rows and test cases in one table).
"""

from crm_lib.errors import FormulaError
from crm_lib.formulas.engine import RecordInfo
from crm_lib.formulas.formula import Formula, compile_formula, evaluate
from crm_lib.formulas.graph import FormulaGraph
from crm_lib.formulas.limits import Limits
from crm_lib.formulas.rewrite import rename_references
from crm_lib.formulas.values import ErrorValue, ValueType

__all__ = [
    "ErrorValue",
    "Formula",
    "FormulaError",
    "FormulaGraph",
    "Limits",
    "RecordInfo",
    "ValueType",
    "compile_formula",
    "evaluate",
    "rename_references",
]
