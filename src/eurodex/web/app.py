"""The FastAPI application: pages, the JSON API, static files, one error shape."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from swagger_ui_bundle import swagger_ui_path

from eurodex import __version__
from eurodex.jobs.loops import background_loops
from eurodex.settings import Settings
from eurodex.store.db import Store
from eurodex.web import api, api_checks, badge, home, institutions, pages, search_api
from eurodex.web import metrics as prometheus_metrics
from eurodex.web import review as review_pages
from eurodex.web import submit as submit_pages
from eurodex.web.head import HeadAsGet
from eurodex.web.hosts import KnownHosts, answered_hosts
from eurodex.web.publishing import include_publishing
from eurodex.web.security import COMMON_HEADERS, PAGE_CSP, ApiRateLimit, SecurityHeaders, docs_csp
from eurodex.web.views import relative_time

log = logging.getLogger("eurodex.web")

DOCS_PATH = "/api/docs"
# Under the docs path, where Swagger UI's OAuth2 flow is documented to come back to
# (FastAPI's default, /docs/oauth2-redirect, lies outside this app's docs).
OAUTH2_REDIRECT_PATH = DOCS_PATH + "/oauth2-redirect"
# Swagger UI's own files, shipped by the swagger-ui-bundle package: no CDN, works offline.
SWAGGER_UI_STATIC = "/static/swagger-ui"


class Health(BaseModel):
    ok: bool
    version: str


def _templates() -> Jinja2Templates:
    folder = resources.files("eurodex.web") / "templates"
    templates = Jinja2Templates(directory=str(folder))
    templates.env.filters["isotime"] = lambda t: t.strftime("%Y-%m-%d %H:%M UTC") if t else ""
    templates.env.globals["relative_time"] = relative_time
    templates.env.globals["version"] = __version__
    return templates


def _error(request: Request, status: int, message: str):
    """JSON for the API and for clients that ask for it; a small page for people."""
    wants_json = request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
        "accept", ""
    )
    if wants_json:
        return JSONResponse({"ok": False, "error": message, "status": status}, status_code=status)
    page = request.app.state.templates.get_template("error.html").render(
        request=request, status=status, message=message
    )
    return HTMLResponse(page, status_code=status)


def _server_error_headers() -> dict[str, str]:
    """The protective headers for a 500: it is answered outside the security middleware."""
    headers = {name.decode(): value.decode() for name, value in COMMON_HEADERS}
    headers["content-security-policy"] = PAGE_CSP
    return headers


def _add_docs(app: FastAPI) -> None:
    """The interactive API docs, Swagger UI from the register's own files.

    Built by hand, not by FastAPI's ``docs_url``, because that loads Swagger UI from a CDN:
    a blank page offline, and a host the CSP would have to trust.
    """

    @app.get(DOCS_PATH, include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        page = get_swagger_ui_html(
            openapi_url=root + app.openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{root}{SWAGGER_UI_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{SWAGGER_UI_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{root}{SWAGGER_UI_STATIC}/favicon-32x32.png",
            oauth2_redirect_url=root + OAUTH2_REDIRECT_PATH,
            # No validator badge: it would fetch from validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers["content-security-policy"] = docs_csp(bytes(page.body).decode())
        return page

    @app.get(OAUTH2_REDIRECT_PATH, include_in_schema=False)
    def api_docs_oauth2_redirect() -> HTMLResponse:
        page = get_swagger_ui_oauth2_redirect_html()
        page.headers["content-security-policy"] = docs_csp(bytes(page.body).decode())
        return page


def create_app(settings: Settings | None = None, store: Store | None = None,
               listening_on: str | None = None) -> FastAPI:
    """The web register; ``listening_on`` is the address served on, a name it answers to."""
    settings = settings or Settings.from_env()
    store = store or Store(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with background_loops(settings, store) as loops:  # verification, methodology 4
            app.state.verification_loops = loops
            async with app.state.mcp.running():  # the MCP SDK's session manager
                yield

    app = FastAPI(
        title="eurodex",
        version=__version__,
        summary="A continuously verified register of official European public-sector APIs "
        "and datasets.",
        lifespan=lifespan,
        docs_url=None,  # served from local files below (_add_docs)
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=OAUTH2_REDIRECT_PATH,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.templates = _templates()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return _error(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return _error(request, 422, f"invalid request: {problems}")

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        """Any unexpected failure answers in the one error shape, not Starlette's plain text.

        Starlette still logs the exception and re-raises it to the server after this answer.
        """
        try:
            response = _error(request, 500, "internal server error")
        except Exception:  # the error page itself failed: JSON needs nothing that can fail
            response = JSONResponse({"ok": False, "error": "internal server error",
                                     "status": 500}, status_code=500)
        response.headers.update(_server_error_headers())
        return response

    @app.get("/healthz", tags=["operations"])
    def healthz() -> Health:
        """Liveness and database reachability."""
        with store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return Health(ok=True, version=__version__)

    _add_docs(app)
    app.include_router(search_api.router)  # before api: "search" is not an entry slug
    app.include_router(api.router)
    app.include_router(institutions.api_router)
    app.include_router(home.router)
    app.include_router(institutions.page_router)
    app.include_router(api_checks.router)
    app.include_router(pages.router)
    app.include_router(badge.router)
    app.include_router(review_pages.router)  # curators' review queue (methodology 3)
    app.include_router(submit_pages.router)  # public submissions
    app.include_router(prometheus_metrics.router)  # /metrics, read from the database
    # DCAT-AP, feeds, exports, llms.txt, sitemap, summary; the MCP server at /mcp.
    app.state.mcp = include_publishing(app, store)
    # Outermost last: headers are added to every answer, 429s included; HEAD, outermost of
    # all, is a GET through every layer (rate limit and headers alike), its body dropped.
    app.add_middleware(
        ApiRateLimit, per_minute=settings.api_rate_per_minute,
        burst=max(10, int(settings.api_rate_per_minute / 5)),
    )
    app.add_middleware(SecurityHeaders, docs_path=DOCS_PATH)
    app.add_middleware(HeadAsGet)
    # Outermost of all: no route, no link, no rate-limit bucket for a host not served.
    app.add_middleware(KnownHosts, hosts=answered_hosts(settings, listening_on))
    # Before /static, which would otherwise take these paths and not find the files.
    app.mount(SWAGGER_UI_STATIC, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    static = resources.files("eurodex.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    # Pages link by path, so they stay right behind any proxy or host name.
    app.state.templates.env.globals["path_for"] = app.url_path_for
    return app
