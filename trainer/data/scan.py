"""One streaming scan per version of a training file, kept in the run store and reused until the file
changes. No torch, no streamlit.

A version is (path, size, mtime). The scan reads the file once as a stream (one row in memory at a
time; `trainer.data.iter_train` does the checks), and keeps: the counts (valid rows, bad rows, rows
without negatives, rows with teacher scores), the first KEEP_PROBLEMS problems with file:line:field
and a count of the rest, a histogram of negatives per row, the file's checksum, and a reservoir
sample of up to SAMPLE_ROWS valid rows (Algorithm R, seeded), from which previews, token-length
histograms and the length suggestion come. Configure, Data, the preflight, the CLI and the worker
all read this one result (`ensure`, `current`); a big file is scanned by a child process
(`python -m trainer scan FILE --scan-id N`, started by `start`) whose progress is in the store, so
the page that asked never waits on it; a small one is scanned where it is asked for, through the
same store rows.
"""
from __future__ import annotations

import json
import os
import random
import resource
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional

from trainer.core.children import START_GRACE_S, pid_alive, start_child
from trainer.store import ScanStatus
from trainer.data import Problem, Report, Source, is_table, iter_train

SAMPLE_ROWS = 10_000              # the reservoir sample's bound
KEEP_PROBLEMS = 100               # problems named with file:line:field; the rest are counted
INLINE_BYTES = 4 << 20            # files up to this size are scanned where asked (a blink); larger ones in a child
LINES_PER_NEG_COUNT = 5           # first lines kept per "negatives per row" value (for warnings that name lines)
PROGRESS_EVERY_S = 0.5
SCANS_DIR = "scans"               # the child scans' logs, under the runs folder
DIRECT_SUFFIXES = (".jsonl", ".json")   # what FlagEmbedding's loader reads (it skips other names)
Progress = Callable[[int, int, int, int], None]     # (bytes read, lines, valid rows, problems)


@dataclass(frozen=True)
class Version:
    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | Path) -> Optional["Version"]:
        """The file's version now; None when it is missing or not a regular file."""
        try:
            st = Path(path).stat()
        except OSError:
            return None
        if not Path(path).is_file():
            return None
        return cls(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@dataclass
class ScanResult:
    path: str                     # as the user gave it (problems name it so)
    size: int
    mtime_ns: int
    checksum: str
    table: bool                   # CSV/TSV pairs (converted to JSONL for training)
    lines: int                    # rows read (non-blank lines)
    rows: int                     # valid rows
    bad_rows: int
    without_negatives: int
    scored_rows: int              # valid rows with pos_scores and neg_scores
    blank_lines: int
    bom: bool
    crlf: bool
    neg_counts: dict              # {negatives per row: [rows, first lines...]}
    problems: list                # the first KEEP_PROBLEMS (every one about the whole file), as Problem
    error_count: int
    warning_count: int
    sample_rows: int
    seconds: float
    peak_rss_mib: float
    scan_id: Optional[int] = None
    sample: Optional[list] = field(default=None, repr=False)   # (line, row JSON); only when not in a store

    @property
    def ok(self) -> bool:
        return not self.error_count

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    def error_problems(self) -> list[Problem]:
        """The kept errors, and a last line counting the errors not kept."""
        errors = self.errors
        if self.error_count > len(errors):
            errors.append(Problem(self.path, 0, "", f"… and {self.error_count - len(errors):,} more invalid "
                                                    f"rows not listed ({self.bad_rows:,} in all)"))
        return errors

    def problems_for(self, group_size: int) -> list[Problem]:
        """The kept problems plus the warnings that depend on the group size (rows with too few
        negatives, rows without any), each naming its first lines."""
        out = list(self.problems)
        if group_size > 1:
            need = group_size - 1
            short = {int(k): v for k, v in self.neg_counts.items() if 0 < int(k) < need}
            if short:
                count = sum(v[0] for v in short.values())
                lines = sorted(line for v in short.values() for line in v[1:])[:LINES_PER_NEG_COUNT]
                out.append(Problem(self.path, lines[0] if count == 1 else 0, "neg",
                                   f"{count:,} rows have fewer than {need} negatives (lines "
                                   f"{', '.join(map(str, lines))}{', …' if count > len(lines) else ''}); group size "
                                   f"{group_size} needs {need}: FlagEmbedding will repeat negatives to fill the group",
                                   warning=True))
            if self.without_negatives:
                out.append(Problem(self.path, 0, "neg", f"{self.without_negatives:,} of {self.rows:,} rows have no "
                                   "negatives: hard negatives are mined for them before training (Data page, or "
                                   "python -m trainer mine)", warning=True))
        return out

    @property
    def more(self) -> int:
        return self.error_count + self.warning_count - len(self.problems)

    @property
    def direct(self) -> bool:
        """Whether FlagEmbedding can read the file as it is: JSONL named .jsonl/.json, every line a valid
        row (no blank line, byte-order mark or CRLF)."""
        return (not self.table and Path(self.path).suffix.lower() in DIRECT_SUFFIXES and not self.bad_rows
                and not self.blank_lines and not self.bom and not self.crlf and self.rows > 0)

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("sample")
        data["problems"] = [asdict(p) for p in self.problems]
        return data

    @classmethod
    def from_json(cls, data: dict, scan_id: Optional[int] = None) -> "ScanResult":
        data = dict(data, problems=[Problem(**p) for p in data["problems"]], scan_id=scan_id)
        return cls(**data)


def scan_file(path: str | Path, *, sample_size: int = SAMPLE_ROWS, keep: int = KEEP_PROBLEMS,
              progress: Optional[Progress] = None, seed: int = 0) -> ScanResult:
    """Read a training file once, as a stream; memory stays bounded by the sample whatever the file's
    size. The result carries the sample (`sample`: (line, row JSON), in file order)."""
    started = time.monotonic()
    path = Path(path)
    version = Version.of(path)
    report = Report(keep=keep)
    rng = random.Random(seed)
    sample: list[tuple[int, str]] = []
    neg_counts: dict[int, list[int]] = {}
    lines = valid = scored = 0
    next_report = started + PROGRESS_EVERY_S
    try:
        source = Source(path, drain=True)
    except OSError as e:
        source = None
        report.add(Problem(str(path), 0, "", f"cannot read: {e.strerror or e}"))
    if source is not None:
        for number, row in iter_train(path, report, 1, source):
            lines += 1
            if row is not None:
                valid += 1
                negatives = row.get("neg")
                entry = neg_counts.setdefault(len(negatives) if isinstance(negatives, list) else 0, [0])
                entry[0] += 1
                if len(entry) <= LINES_PER_NEG_COUNT:
                    entry.append(number)
                scored += "pos_scores" in row and "neg_scores" in row
                if len(sample) < sample_size:
                    sample.append((number, json.dumps(row, ensure_ascii=False)))
                else:
                    j = rng.randrange(valid)
                    if j < sample_size:
                        sample[j] = (number, json.dumps(row, ensure_ascii=False))
            if progress and not lines % 1024 and time.monotonic() >= next_report:
                progress(source.done, lines, valid, report.error_count)
                next_report = time.monotonic() + PROGRESS_EVERY_S
    sample.sort()
    return ScanResult(
        path=str(path), size=version.size if version else 0, mtime_ns=version.mtime_ns if version else 0,
        checksum=source.checksum() if source else "", table=is_table(path), lines=lines, rows=valid,
        bad_rows=report.bad_rows, without_negatives=report.without_negatives, scored_rows=scored,
        blank_lines=report.blank_lines, bom=report.bom, crlf=report.crlf, neg_counts=neg_counts,
        problems=report.problems, error_count=report.error_count, warning_count=report.warning_count,
        sample_rows=len(sample), seconds=round(time.monotonic() - started, 3),
        peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), sample=sample)


# In the store -----------------------------------------------------------------------------------


def alive(row: dict) -> bool:
    """A running scan whose process is still there (or was claimed a moment ago and is starting)."""
    if row["pid"] is None:
        return time.time() - row["started"] < START_GRACE_S
    return pid_alive(row["pid"])


def current(store, path: str | Path) -> Optional[dict]:
    """The store's scan row of the file's current version (status running, done or failed), or None."""
    version = Version.of(path)
    if version is None:
        return None
    return store.find_scan(version.path, version.size, version.mtime_ns)


def result_of(row: Optional[dict]) -> Optional[ScanResult]:
    return ScanResult.from_json(json.loads(row["result"]), row["id"]) if row and row["status"] == ScanStatus.DONE else None


def run(store, path: str | Path, scan_id: Optional[int] = None, lengths_for: str = "") -> ScanResult:
    """Scan in this process, writing progress and the result to the store. Without `scan_id`, claims the
    file's current version first (a file that is missing is scanned, not stored: its problem is that)."""
    version = Version.of(path)
    if scan_id is None:
        if version is None:
            return scan_file(path)
        scan_id, _ = store.claim_scan(version.path, version.size, version.mtime_ns, os.getpid())
    store.scan_progress(scan_id, pid=os.getpid(), bytes_read=0, lines=0, rows=0, problems=0)

    def progress(done: int, lines: int, rows: int, problems: int) -> None:
        store.scan_progress(scan_id, bytes_read=done, lines=lines, rows=rows, problems=problems)

    try:
        result = scan_file(path, progress=progress)
    except BaseException as e:
        store.fail_scan(scan_id, f"{type(e).__name__}: {e}")
        raise
    row = store.get_scan(scan_id)
    if row is None:                        # the file changed and a newer scan replaced this one
        return result
    if Version.of(path) != Version(row["path"], row["size"], row["mtime_ns"]):
        store.fail_scan(scan_id, "the file changed while it was scanned")
        return result
    # The lengths for the page's model are kept with the result: the page's first look after the scan is quick too.
    advice = (lengths_for, _advice(result, store, lengths_for)) if lengths_for and result.rows else None
    store.finish_scan(scan_id, result.to_json(), result.sample, advice)
    result.scan_id = scan_id
    return result


MAX_SCANS = 2            # scans in child processes at once (each reads a file and holds a core)
WAITING = "waiting"      # start's answer while MAX_SCANS others run: nothing was started


def scanning(store) -> int:
    """How many scans are running in child processes now."""
    return sum(alive(r) for r in store.running_scans())


def start(store, path: str | Path, inline_bytes: Optional[int] = None, retry: bool = False,
          lengths_for: str = "") -> Optional[dict]:
    """The scan row of the file's current version, starting a scan when there is none (or the last one
    died): inline for a file up to `inline_bytes`, else a child process (which also works out the
    suggested lengths for the model `lengths_for`). Never waits for a big file. None when the file is
    missing (`scan_file` names the problem)."""
    version = Version.of(path)
    if version is None:
        return None
    row = store.find_scan(version.path, version.size, version.mtime_ns)
    if row is not None:
        if row["status"] == ScanStatus.RUNNING and not alive(row):
            store.fail_scan(row["id"], "the scan ended without a result" + _log_tail(store, row["id"]))
            row = store.get_scan(row["id"])
        if row["status"] != ScanStatus.FAILED or not retry:
            return row
        store.delete_scan(row["id"])
    if version.size <= (INLINE_BYTES if inline_bytes is None else inline_bytes):
        run(store, path)
        return current(store, path)
    others = scanning(store)
    if others >= MAX_SCANS:               # a shared dashboard: a file's scan waits for one of these to end
        return {"status": WAITING, "others": others}
    scan_id, created = store.claim_scan(version.path, version.size, version.mtime_ns)
    if created:
        _spawn(store, path, scan_id, lengths_for)
    return store.get_scan(scan_id)


def _log(store, scan_id: int) -> Path:
    return store.runs_dir / SCANS_DIR / f"{scan_id}.log"


def _log_tail(store, scan_id: int) -> str:
    try:
        tail = _log(store, scan_id).read_text(encoding="utf-8", errors="replace")[-1500:].strip()
    except OSError:
        return ""
    return f":\n{tail}" if tail else ""


def _spawn(store, path: str | Path, scan_id: int, lengths_for: str = "") -> None:
    log_path = _log(store, scan_id)
    log_path.parent.mkdir(exist_ok=True)
    pid = start_child(log_path.parent, log_path.name,
                      ["-m", "trainer", "scan", str(path), "--runs-dir", str(store.runs_dir), "--scan-id", str(scan_id)]
                      + (["--lengths-for", lengths_for] if lengths_for else []))
    store.scan_progress(scan_id, pid=pid, bytes_read=0, lines=0, rows=0, problems=0)


def ensure(store, path: str | Path, poll: float = 0.5) -> ScanResult:
    """The file's scan result, waiting for a running scan or scanning here (the preflight, the CLI, the
    worker). Without a store: a scan that is not kept."""
    if store is None:
        return scan_file(path)
    while True:
        row = current(store, path)
        if row is None:
            return run(store, path)
        if row["status"] == ScanStatus.DONE:
            return result_of(row)
        if row["status"] == ScanStatus.RUNNING and alive(row):
            time.sleep(poll)
            continue
        store.delete_scan(row["id"])          # failed or dead: scan again, here


def sample_rows(store, result: ScanResult, limit: int = -1) -> list[dict]:
    """The sample's rows in file order (`limit` of them)."""
    pairs = result.sample if result.sample is not None else store.scan_sample(result.scan_id, limit)
    return [json.loads(text) for _, text in (pairs if limit < 0 else pairs[:limit])]


def sample_lines(store, result: ScanResult, limit: int = -1) -> list[tuple[int, dict]]:
    pairs = result.sample if result.sample is not None else store.scan_sample(result.scan_id, limit)
    return [(line, json.loads(text)) for line, text in (pairs if limit < 0 else pairs[:limit])]


def lengths(store, result: ScanResult, model: str) -> Optional[dict]:
    """The suggested truncation lengths (trainer.token_lengths over the sample's first rows) for `model`, kept
    with the scan: {query_max_len, passage_max_len, query_p95, passage_p95, passage_quantiles (5 % steps),
    unknown_share (the share of the texts' tokens the model reads as [UNK])}; None without a tokenizer."""
    if store is not None and result.scan_id is not None:
        kept = store.scan_lengths(result.scan_id, model)
        if kept is not None and (not kept or "passage_quantiles" in kept):   # (kept before the quantiles: again)
            return kept or None
    advice = _advice(result, store, model) if result.rows else {}
    if store is not None and result.scan_id is not None:
        store.set_scan_lengths(result.scan_id, model, advice)
    return advice or None


def _advice(result: ScanResult, store, model: str) -> dict:
    from trainer.data.token_lengths import length_advice
    from trainer.data.token_lengths import SAMPLE_ROWS as LENGTH_ROWS, unknown_share

    rows = sample_rows(store, result, LENGTH_ROWS)
    tip = length_advice(rows, model)
    if not tip:
        return {}
    texts = [r["query"] for r in rows] + [p for r in rows[:500] for p in r["pos"]]
    return {"query_max_len": tip.query_max_len, "passage_max_len": tip.passage_max_len,
            "query_p95": tip.query_p95, "passage_p95": tip.passage_p95, "passage_quantiles": list(tip.passage_quantiles),
            "unknown_share": round(unknown_share(texts, model), 4)}
