"""Every door for programs and agents, added to the app in one call (see app.py).

DCAT-AP, change feeds, bulk exports, summary counts, llms.txt and the sitemap are routers;
the MCP server is an ASGI endpoint at ``/mcp`` whose session manager the app's lifespan runs.
"""

from __future__ import annotations

from fastapi import FastAPI

from eurodex.store.db import Store
from eurodex.web import dcat_export, discovery, exports, feeds, openapi_doc
from eurodex.web.mcp_server import McpEndpoint


def include_publishing(app: FastAPI, store: Store) -> McpEndpoint:
    """Add the publishing routes and ``/mcp``; returns the endpoint the lifespan must run."""
    for router in (dcat_export.router, feeds.router, exports.router, discovery.router):
        app.include_router(router)
    mcp = McpEndpoint(store)
    app.add_route("/mcp", mcp, include_in_schema=False)
    openapi_doc.install(app)  # every route's error responses, in the one error shape
    return mcp
