"""Formula functions, one module per category; importing this package registers them all."""

from crm_lib.formulas.functions import arrays, dates, logical, numeric, record, text

__all__ = ["arrays", "dates", "logical", "numeric", "record", "text"]
