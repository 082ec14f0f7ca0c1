"""Front-end packages installed by `npm ci` (pinned in package-lock.json), served from node_modules: no CDN.

Only the files listed here are served, so node_modules is not browsable.
"""
import os

from flask import abort, current_app, send_from_directory

from console.web import bp

VENDOR = {
    "bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "bootstrap.bundle.min.js": "bootstrap/dist/js/bootstrap.bundle.min.js",
    "echarts.min.js": "echarts/dist/echarts.min.js",
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "zxing-browser.min.js": "@zxing/browser/umd/zxing-browser.min.js",
}


@bp.get("/vendor/<name>")
def vendor(name):
    """One pinned front-end file from node_modules, cached for a day."""
    relative = VENDOR.get(name)
    if relative is None:
        abort(404)
    folder, filename = os.path.split(os.path.join(current_app.config["CONSOLE_ASSETS_DIR"], relative))
    if not os.path.isfile(os.path.join(folder, filename)):
        abort(404)
    return send_from_directory(folder, filename, max_age=86400)
