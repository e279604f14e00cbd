"""The pages, in one place: the router registers them, pages link to them."""
from pathlib import Path

import streamlit as st

from app.ui import t

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
NAMES = ("configure", "train", "compare", "sweep", "tryit", "data", "runs")


def page(name: str) -> st.Page:
    return st.Page(str(PAGES_DIR / f"{name}.py"), title=t(f"nav.{name}"), url_path=name, default=name == NAMES[0])


def all_pages() -> list:
    return [page(n) for n in NAMES]
