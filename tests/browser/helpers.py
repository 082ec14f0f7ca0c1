"""What browser tests do often: sign in, take screenshots at both sizes, run axe-core."""
import json
import re
from pathlib import Path

from tests.builders import STAFF_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
_SHOTS = {}


def sign_in(page, live, username, password=STAFF_PASSWORD, next_path=None):
    """Sign in through the login form as a person would; lands on `next_path` or the role's first page."""
    target = "/console/login" + (f"?next={next_path}" if next_path else "")
    page.goto(target)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector("[data-testid=who]")
    # The header is parsed before the page's scripts at the end of <body> have run: on a loaded
    # machine a click could land before its handler exists (seen once with the camera button).
    page.wait_for_load_state("load")


def shots_dir():
    """The run's screenshot folder (set by the `shots_dir` fixture through `use_shots_dir`)."""
    return _SHOTS["dir"]


def use_shots_dir(folder):
    """Called once by the session fixture."""
    _SHOTS["dir"] = Path(folder)


def shoot(page, name, full_page=True):
    """Screenshots of the page as it is now at 1366×768 and at 390×844; returns their paths.

    Files are named <backend>-<name>-<size>.png. The viewport goes back to where it was.
    """
    folder = shots_dir()
    before = page.viewport_size
    paths = []
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)  # let the layout settle at the new width
        path = folder / f"{getattr(page, 'fg_backend', 'x')}-{name}-{width}x{height}.png"
        page.screenshot(path=str(path), full_page=full_page)
        paths.append(path)
    page.set_viewport_size(before)
    return paths


def check_a11y(page, include=None):
    """Run axe-core on the page (or the `include` selector); fail on any serious or critical violation."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so the page's CSP does not apply to the injected source.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    context = json.dumps(include) if include else "document"
    result = page.evaluate(f"axe.run({context}, {{resultTypes: ['violations']}})")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    report = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in bad]
    assert not bad, "axe-core found:\n" + "\n".join(report)
    return result["violations"]


def text_of(page, selector):
    """The visible text of an element, whitespace collapsed."""
    return re.sub(r"\s+", " ", page.inner_text(selector)).strip()
