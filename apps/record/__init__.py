"""The record page: one investor at /record?id=<id> (store, page, fields, history, keys)."""
