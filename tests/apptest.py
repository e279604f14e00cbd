"""The app's pages under Streamlit's AppTest, opened the one way every test does it."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

MAIN = str(Path(__file__).resolve().parent.parent / "app" / "router.py")


def open_page(name: str = "configure", lang: str = "en", timeout: float = 90, **state) -> AppTest:
    """The app in `lang` on page `name` (Configure is where it starts), `state` set in the session
    first; fails on an exception."""
    at = AppTest.from_file(MAIN, default_timeout=timeout)
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if name != "configure":
        at.switch_page(f"../pages/{name}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
