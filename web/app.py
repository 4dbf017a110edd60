"""The Flask application factory."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import (
    Flask,
    Response,
    abort,
    g,
    jsonify,
    render_template,
    request,
    send_from_directory,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from engine.config import ROOT
from engine.errors import DubanError
from web import auth, security
from web.params import IdConverter
from web.views.common import close_db, http_status, template_globals
from web.views.nav import cn_date, filesize, role_label

if TYPE_CHECKING:
    from engine.runtime import Runtime

csrf = CSRFProtect()
log = logging.getLogger(__name__)
BPMN_DIST = ROOT / "node_modules" / "bpmn-js" / "dist"
ECHARTS_DIST = ROOT / "node_modules" / "echarts" / "dist"
# Only these files of bpmn-js's distribution are served.
BPMN_FILES = frozenset({
    "bpmn-navigated-viewer.production.min.js", "assets/diagram-js.css", "assets/bpmn-js.css",
    "assets/bpmn-font/css/bpmn.css", "assets/bpmn-font/font/bpmn.woff2",
    "assets/bpmn-font/font/bpmn.woff", "assets/bpmn-font/font/bpmn.ttf",
})
ERROR_TEXT = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "页面不存在",
              405: "不支持的请求方式", 409: "状态已变化", 413: "上传文件过大",
              429: "请求过于频繁", 500: "系统内部错误"}


def create_app(config: dict[str, Any] | None = None, runtime: Runtime | None = None) -> Flask:
    """Build the web app around an engine runtime (opened from the environment if not given)."""
    app = Flask(__name__)
    app.url_map.converters["int"] = IdConverter  # ids beyond BIGINT are 404, not a 500
    app.config.from_mapping(config or {})
    if runtime is None:
        from engine.runtime import open_runtime

        runtime = open_runtime()
    app.extensions["duban_runtime"] = runtime
    security.configure(app, runtime.config, config or {})
    security.limit_requests(app, runtime.config, config or {})  # before CSRF parses a body
    csrf.init_app(app)
    auth.init_app(app)
    _register_blueprints(app)
    app.teardown_appcontext(close_db)
    app.context_processor(template_globals)
    app.add_template_filter(cn_date, "cn_date")
    app.add_template_filter(role_label, "role_label")
    app.add_template_filter(filesize, "filesize")
    _register_errors(app)
    app.add_url_rule("/vendor/bpmn-js/<path:name>", "vendor_bpmn", vendor_bpmn)
    app.add_url_rule("/vendor/echarts.min.js", "vendor_echarts", vendor_echarts)
    return app


def _register_blueprints(app: Flask) -> None:
    """Every page blueprint and the JSON API."""
    from web.api import bp as api_bp
    from web.views.admin import bp as admin_bp
    from web.views.archive import bp as archive_bp
    from web.views.assessment import bp as assessment_bp
    from web.views.board import bp as board_bp
    from web.views.inbox import bp as inbox_bp
    from web.views.items import bp as items_bp
    from web.views.policies import bp as policies_bp
    from web.views.process import bp as process_bp
    from web.views.progress import bp as progress_bp
    from web.views.review import bp as review_bp
    from web.views.search import bp as search_bp

    for blueprint in (inbox_bp, items_bp, review_bp, board_bp, process_bp, admin_bp, archive_bp,
                      policies_bp, search_bp, assessment_bp, progress_bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)


def vendor_bpmn(name: str) -> Response:
    """bpmn-js's viewer and its styles, from node_modules, for a whitelist of files."""
    if name not in BPMN_FILES:
        abort(404)
    response = send_from_directory(BPMN_DIST, name, max_age=86400)
    return response


def vendor_echarts() -> Response:
    """ECharts (Apache-2.0) from node_modules, for the cockpit."""
    return send_from_directory(ECHARTS_DIST, "echarts.min.js", max_age=86400)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _register_errors(app: Flask) -> None:
    """Engine errors and HTTP errors as Chinese pages (or JSON under /api); never a traceback."""

    @app.errorhandler(DubanError)
    def engine_error(exc: DubanError) -> tuple[Any, int]:
        return _error(http_status(exc), str(exc))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[Any, int]:
        return _error(400, "页面已过期或表单校验失败，请刷新页面后重试。")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Any, int]:
        status = exc.code or 500
        return _error(status, ERROR_TEXT.get(status, "请求失败"))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Any, int]:
        from engine.service import conflict

        lost = conflict(exc)  # a race lost outside act() (the API): 409, not an error page
        if lost is not None:
            return _error(409, str(lost))
        log.exception("unhandled error on %s", request.path)
        return _error(500, "系统内部错误，请稍后再试或联系管理员。")


def _error(status: int, message: str) -> tuple[Any, int]:
    """One error answer, rendered on a clean session (the failed one may be unusable: the page's
    navigation reads the database again)."""
    session = g.get("db")
    if session is not None:
        try:
            session.rollback()
        except Exception:  # noqa: BLE001 - a broken connection: start the page on a new session
            log.warning("rollback failed on %s; using a fresh session", request.path)
            g.pop("db", None)
            session.close()
    if _wants_json():
        return jsonify({"error": message, "status": status}), status
    title = ERROR_TEXT.get(status, "出错了")
    try:
        return render_template("error.html", status=status, message=message,
                               title=title), status
    except Exception:  # noqa: BLE001 - e.g. the database is gone: a bare page, never a blank 500
        log.exception("error page for %s could not be rendered", request.path)
        return (f"<!doctype html><meta charset=utf-8><title>{escape(title)}</title>"
                f"<h1>{escape(title)}</h1><p>{escape(message)}</p>"), status
