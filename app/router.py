"""The router Streamlit runs for every session (app/main.py serves it): each page is a script in pages/."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import draft  # noqa: E402
from app.nav import all_pages  # noqa: E402
from app.ui import get_store, language_picker  # noqa: E402
from trainer import __version__  # noqa: E402

st.set_page_config(page_title="M3 Studio", layout="wide")
get_store()
draft.keep()                 # Configure's settings outlive visits to other pages and reloads
language_picker()
st.sidebar.caption(f"M3 Studio {__version__}")
st.navigation(all_pages()).run()
