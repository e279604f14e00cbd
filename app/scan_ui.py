"""A training file's scan on a page (Configure, Data): the stored result of its current version, or a
progress bar while a child process scans a big file (trainer.scan). Pages never read the rows."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import streamlit as st

from app.ui import t
from trainer.data import scan
from trainer.store import ScanStatus, Store


def scan_for(store: Store, path: str | Path, key: str, model: str = "") -> Optional[scan.ScanResult]:
    """The file's scan result; None while it is being scanned (a progress bar shows here and the page
    reruns when it is done) or when the scan failed (said here, with a button to scan again). A child
    scan also works out the suggested lengths for `model`."""
    row = scan.start(store, path, lengths_for=model)
    if row is None:                       # missing or not a file: the result names the problem
        return scan.scan_file(path)
    if row["status"] == ScanStatus.DONE:
        return scan.result_of(row)
    if row["status"] == ScanStatus.RUNNING:
        _progress(store, row["id"])
        return None
    if row["status"] == scan.WAITING:
        st.info(t("scan.waiting", n=row["others"]))
        _retry(store)
        return None
    st.error(t("scan.failed", error=row["error"] or ""))
    if st.button(t("scan.again"), key=f"{key}_scan_again"):
        scan.start(store, path, retry=True)
        st.rerun()
    return None


@st.fragment(run_every=2)
def _retry(store: Store) -> None:
    if scan.scanning(store) < scan.MAX_SCANS:
        st.rerun()


@st.fragment(run_every=1)
def _progress(store: Store, scan_id: int) -> None:
    row = store.get_scan(scan_id)
    if row is None or row["status"] != ScanStatus.RUNNING or not scan.alive(row):
        st.rerun()                        # done (or gone): the whole page again, with the result
    size = max(1, row["size"])
    st.progress(min(1.0, row["bytes_read"] / size),
                text=t("scan.progress", rows=f"{row['rows']:,}", problems=f"{row['problems']:,}",
                       done=row["bytes_read"] / 2**20, size=size / 2**20))


def problem_lines(problems, total: int, limit: int) -> str:
    """The first `limit` problems, one a line, and how many more of `total` there are."""
    shown = [str(p) for p in problems[:limit]]
    hidden = total - len(shown)
    return "\n".join(shown + ([t("scan.more", n=f"{hidden:,}")] if hidden > 0 else []))
