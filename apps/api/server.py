"""Tornado routes for the whole REST API: one handler per path from the route table, the OpenAPI
document, and a JSON 404 for anything else under /api."""

from __future__ import annotations

import json

from apps.api import routes as _routes  # noqa: F401  (registers every route)
from apps.api.base import APIHandler
from apps.api.errors import JSONHandler, NotFoundHandler
from apps.api.openapi import openapi_document
from apps.api.registry import API
from apps.runtime import Runtime


class OpenAPIHandler(JSONHandler):
    def initialize(self, document: str) -> None:
        self.document = document

    def get(self) -> None:
        self.set_header("Cache-Control", "public, max-age=300")
        self.finish(self.document)


def routes(runtime: Runtime) -> list[tuple]:
    """Every /api route, most specific first, the catch-all 404 last."""
    table = [
        (r"/api/openapi.json", OpenAPIHandler, {"document": json.dumps(openapi_document(API))})
    ]
    for methods in API.by_path().values():
        pattern = next(iter(methods.values())).pattern
        table.append((pattern, APIHandler, {"runtime": runtime, "routes": methods}))
    table.append((r"/api(/.*)?", NotFoundHandler))
    return table
