"""M3 Studio: `streamlit run app/main.py` (or `m3-studio`). The server: app/door.py's door in front of every
request, the downloads served from disk, and app/router.py as the script each session runs."""
import sys
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402
from streamlit import config  # noqa: E402

from app import door, download  # noqa: E402


@asynccontextmanager
async def lifespan(_app):
    door.start(config.get_option("server.address"), config.get_option("server.port"))
    yield


app = st.App("router.py", lifespan=lifespan, middleware=[Middleware(door.Door)], routes=[download.ROUTE])
