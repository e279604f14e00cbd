"""Reading and validating training files (FlagEmbedding JSONL, or CSV/TSV pairs) and BEIR-style
evaluation folders; the demo data.

Every problem names the file, the line and the field. No torch import.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional


MAX_LINE_BYTES = 4 * 1024 * 1024
# CSV/TSV training files: a header names the query column and the positive column (pairs, no negatives).
TABLE_DELIMITERS = {".csv": ",", ".tsv": "\t"}
QUERY_COLUMNS = ("query", "question", "anchor")
POSITIVE_COLUMNS = ("pos", "positive", "passage", "document", "answer")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int          # 1-based; 0 when the problem is about the whole file
    field: str         # "" when about the whole line or file
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f" field '{self.field}'" if self.field else ""
        kind = "warning" if self.warning else "error"
        return f"{where}:{what} {kind}: {self.message}"


@dataclass
class Report:
    rows: list[dict] = field(default_factory=list)   # the valid rows (validate_train keeps them; a scan does not)
    problems: list[Problem] = field(default_factory=list)
    bad_rows: int = 0
    without_negatives: int = 0        # valid rows with no `neg` (pairs): negatives must be mined
    keep: Optional[int] = None        # keep the first `keep` line problems (all about the whole file); None: all
    error_count: int = 0              # every error and warning, kept or not
    warning_count: int = 0
    blank_lines: int = 0
    bom: bool = False
    crlf: bool = False

    def add(self, problem: Problem, first: bool = False) -> None:
        if problem.warning:
            self.warning_count += 1
        else:
            self.error_count += 1
        if self.keep is None or not problem.line or len(self.problems) < self.keep:
            self.problems.insert(0, problem) if first else self.problems.append(problem)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def ok(self) -> bool:
        return not self.error_count

    @property
    def more(self) -> int:
        """Problems counted but not kept (a big file's: the first `keep` are named, the rest counted)."""
        return self.error_count + self.warning_count - len(self.problems)


class DataError(ValueError):
    """Invalid data: the message lists each problem with file, line and field (the first 20, then a count;
    `total` counts problems that were counted but not kept)."""

    def __init__(self, problems: list[Problem], total: Optional[int] = None):
        self.problems = problems
        total = max(total or 0, len(problems))
        shown = "\n".join(str(p) for p in problems[:20])
        more = f"\n… and {total - min(20, len(problems)):,} more" if total > 20 else ""
        super().__init__(shown + more)


class Source(io.RawIOBase):
    """A file read once from start to end, its bytes hashed (BLAKE2b) and counted as they go by: the
    checksum a run records, and the progress of a scan, at no extra pass over the file."""

    def __init__(self, path: str | Path, drain: bool = False):
        self._file = open(path, "rb", buffering=0)
        self._hash = hashlib.blake2b(digest_size=16)
        self._drain = drain            # on close, hash what a reader that stopped early left unread
        self.done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._file.readinto(buffer)
        if n:
            self._hash.update(memoryview(buffer)[:n])
            self.done += n
        return n

    def checksum(self) -> str:
        """The whole file's: reads what is left first (a closed Source made with `drain` has it)."""
        if not self._file.closed:
            buffer = bytearray(1 << 20)
            while self.readinto(buffer):
                pass
        return self._hash.hexdigest()

    def close(self) -> None:
        if self._drain and not self._file.closed:
            self.checksum()
        self._file.close()
        super().close()


def checksum(path: str | Path) -> str:
    """BLAKE2b of a file's bytes (what a run records of its training file)."""
    with Source(path) as source:
        return source.checksum()


def _lines(path: Path, report: Report, source: Optional[Source] = None) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) of non-blank lines, read as a stream (one line in memory at a time;
    a line over MAX_LINE_BYTES is skipped without being held); problems go to the report."""
    name = str(path)
    try:
        stream = io.BufferedReader(source or Source(path), 1 << 20)
    except OSError as e:
        report.add(Problem(name, 0, "", f"cannot read: {e.strerror or e}"))
        return
    limit = MAX_LINE_BYTES + 2                     # the line, its \r and its \n
    content = False
    number = 0
    with stream:
        while line := stream.readline(limit + 1):
            number += 1
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
                report.bom = True
                report.add(Problem(name, 1, "", "UTF-8 byte-order mark removed", warning=True))
            if len(line) > limit and not line.endswith(b"\n"):    # overlong: count it, never hold it
                size, tail = len(line), line
                while tail and not tail.endswith(b"\n"):
                    tail = stream.readline(1 << 20)
                    size += len(tail)
                size -= tail.endswith(b"\n") + tail.endswith(b"\r\n")
                content = True
                report.add(Problem(name, number, "", f"line is {size:,} bytes, over the {MAX_LINE_BYTES:,}-byte limit"))
                report.bad_rows += 1
                continue
            if line.endswith(b"\n"):
                line = line[:-1]
            if line.endswith(b"\r"):
                line = line[:-1]
                report.crlf = True
            if not line.strip():
                report.blank_lines += 1
                continue
            content = True
            if len(line) > MAX_LINE_BYTES:
                report.add(Problem(name, number, "", f"line is {len(line):,} bytes, over the "
                                                     f"{MAX_LINE_BYTES:,}-byte limit"))
                report.bad_rows += 1
                continue
            try:
                yield number, line.decode("utf-8")
            except UnicodeDecodeError as e:
                report.add(Problem(name, number, "", f"not valid UTF-8 (byte {e.start})"))
                report.bad_rows += 1
    if not content:
        report.add(Problem(name, 0, "", "file is empty"))
    if report.crlf:
        report.add(Problem(name, 0, "", "Windows line endings (CRLF) read as plain line ends", warning=True))


def _json_object(name: str, number: int, text: str, report: Report) -> Optional[dict]:
    try:
        row = json.loads(text)
    except json.JSONDecodeError as e:
        report.add(Problem(name, number, "", f"invalid JSON: {e.msg} at column {e.colno}"))
        return None
    if not isinstance(row, dict):
        report.add(Problem(name, number, "", f"expected a JSON object, got {type(row).__name__}"))
        return None
    return row


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _check_train_row(row: dict, name: str, number: int, group_size: int) -> list[Problem]:
    out: list[Problem] = []

    def bad(fld: str, msg: str, warning: bool = False) -> None:
        out.append(Problem(name, number, fld, msg, warning))

    query = row.get("query")
    if "query" not in row:
        bad("query", "missing")
    elif not isinstance(query, str):
        bad("query", f"must be a string, got {type(query).__name__}")
    elif not query.strip():
        bad("query", "is empty")
    for key in ("pos", "neg"):
        value = row.get(key)
        if key not in row:
            if key == "pos":   # a row without `neg` is a pair: its negatives get mined
                bad(key, "missing")
        elif not isinstance(value, list):
            bad(key, f"must be a list of strings, got {type(value).__name__}")
        else:
            for i, text in enumerate(value):
                if not isinstance(text, str):
                    bad(f"{key}[{i}]", f"must be a string, got {type(text).__name__}")
                elif not text.strip():
                    bad(f"{key}[{i}]", "is empty")
    if isinstance(row.get("pos"), list) and not row["pos"]:
        bad("pos", "is empty: every query needs at least one positive passage")
    negs = row.get("neg")
    if isinstance(negs, list) and group_size > 1:
        if 0 < len(negs) < group_size - 1:
            bad("neg", f"has {len(negs)} negatives, group size {group_size} needs {group_size - 1}: "
                       "FlagEmbedding will repeat negatives to fill the group", warning=True)
    for key, passages in (("pos_scores", "pos"), ("neg_scores", "neg")):
        if key not in row:
            continue
        scores = row[key]
        if not isinstance(scores, list) or not all(_is_number(s) for s in scores):
            bad(key, "must be a list of numbers")
        elif isinstance(row.get(passages, []), list) and len(scores) != len(row.get(passages, [])):
            bad(key, f"has {len(scores)} scores for {len(row.get(passages, []))} '{passages}' passages")
    for key in ("prompt", "type"):
        if key in row and not isinstance(row[key], str):
            bad(key, f"must be a string, got {type(row[key]).__name__}")
    return out


def _table_rows(path: Path, report: Report, source: Optional[Source] = None) -> Iterator[tuple[int, Optional[dict]]]:
    """(line, {"query", "pos"}) per data row of a CSV/TSV file whose header names the two columns;
    None for a row with a problem (already reported). Read as a stream."""
    name = str(path)
    try:
        text = io.TextIOWrapper(io.BufferedReader(source or Source(path), 1 << 20), encoding="utf-8-sig", newline="")
    except OSError as e:
        report.add(Problem(name, 0, "", f"cannot read as UTF-8 text: {e}"))
        return
    with text:
        reader = csv.reader(text, delimiter=TABLE_DELIMITERS[path.suffix.lower()])
        try:
            header = [h.strip().lower() for h in next(reader, [])]
        except UnicodeDecodeError as e:
            report.add(Problem(name, 0, "", f"cannot read as UTF-8 text: {e}"))
            return
        q_col = next((header.index(c) for c in QUERY_COLUMNS if c in header), None)
        p_col = next((header.index(c) for c in POSITIVE_COLUMNS if c in header), None)
        if q_col is None or p_col is None:
            report.add(Problem(name, 1, "", "the header must name a query column (" + "/".join(QUERY_COLUMNS)
                               + ") and a positive column (" + "/".join(POSITIVE_COLUMNS) + f"); its first line has {len(header)} columns, none named so"))
            return
        while True:
            try:
                cols = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as e:
                report.add(Problem(name, reader.line_num + 1, "", f"cannot read as UTF-8 text from here on: {e}"))
                return
            except csv.Error as e:
                report.add(Problem(name, reader.line_num, "", f"unreadable {path.suffix[1:].upper()} row: {e}"))
                yield reader.line_num, None
                continue
            if not any(c.strip() for c in cols):
                report.blank_lines += 1
                continue
            if len(cols) <= max(q_col, p_col):
                report.add(Problem(name, reader.line_num, "", f"expected {len(header)} columns, got {len(cols)}"))
                yield reader.line_num, None
                continue
            yield reader.line_num, {"query": cols[q_col], "pos": [cols[p_col]]}


def is_table(path: str | Path) -> bool:
    return Path(path).suffix.lower() in TABLE_DELIMITERS


def iter_train(path: str | Path, report: Report, group_size: int = 8,
               source: Optional[Source] = None) -> Iterator[tuple[int, Optional[dict]]]:
    """Check a training file as a stream: (line, row) for every row, None for an invalid one; problems
    and counts go to `report` (its rows are not kept here). One row in memory at a time."""
    path = Path(path)
    name = str(path)
    not_objects = 0                    # lines that read as text but not as a JSON object
    valid = 0
    if is_table(path):
        numbered = _table_rows(path, report, source)
    else:
        numbered = ((n, _json_object(name, n, text, report)) for n, text in _lines(path, report, source))
    for number, row in numbered:
        if row is None:
            report.bad_rows += 1
            not_objects += 1
            yield number, None
            continue
        problems = _check_train_row(row, name, number, group_size)
        for p in problems:
            report.add(p)
        if any(not p.warning for p in problems):
            report.bad_rows += 1
            yield number, None
        else:
            valid += 1
            report.without_negatives += not row.get("neg")
            yield number, row
    if not valid and not report.error_count:
        report.add(Problem(name, 0, "", "no training rows"))
    elif not valid and 0 < not_objects == report.bad_rows and not is_table(path):
        report.add(Problem(name, 0, "", "not a JSONL file: no line is a JSON object "
                                        "({\"query\": ..., \"pos\": [...], \"neg\": [...]}); "
                                        "(query, positive) pairs can also come as .csv or .tsv "
                                        "with a header"), first=True)
    if report.without_negatives and group_size > 1:
        report.add(Problem(name, 0, "neg", f"{report.without_negatives:,} of {valid:,} rows "
                                           "have no negatives: hard negatives are mined for them before training "
                                           "(Data page, or python -m trainer mine)", warning=True))


def validate_train(path: str | Path, group_size: int = 8) -> Report:
    """Validate a training file — FlagEmbedding JSONL, or CSV/TSV (query, positive) pairs — keeping its
    valid rows in the report (for files that fit in memory: mining, teacher scores; pages and runs
    use the streaming scan, trainer.scan). Rows without negatives are valid: mining gives them negatives."""
    report = Report()
    report.rows = [row for _, row in iter_train(path, report, group_size) if row is not None]
    return report


@dataclass
class EvalSet:
    queries: list[str]
    doc_ids: list[str]
    docs: list[str]
    relevance: list[dict[int, float]]   # per query: {doc index: relevance}


def _read_id_text(path: Path, report: Report, with_title: bool) -> dict[str, str]:
    name = str(path)
    out: dict[str, str] = {}
    for number, text in _lines(path, report):
        row = _json_object(name, number, text, report)
        if row is None:
            continue
        ident, body = row.get("_id"), row.get("text")
        if not isinstance(ident, (str, int)) or isinstance(ident, bool) or str(ident) == "":
            report.add(Problem(name, number, "_id", "missing or not a string"))
            continue
        if not isinstance(body, str) or not body.strip():
            report.add(Problem(name, number, "text", "missing, empty or not a string"))
            continue
        ident = str(ident)
        if ident in out:
            report.add(Problem(name, number, "_id", f"duplicate id {ident!r}"))
            continue
        title = row.get("title") if with_title else None
        out[ident] = f"{title}. {body}" if isinstance(title, str) and title.strip() else body
    return out


def validate_eval(folder: str | Path) -> tuple[Optional[EvalSet], Report]:
    """Validate a BEIR-style folder: queries.jsonl, corpus.jsonl, qrels.tsv."""
    folder = Path(folder)
    report = Report()
    missing = [f for f in ("queries.jsonl", "corpus.jsonl", "qrels.tsv") if not (folder / f).is_file()]
    if missing:
        for f in missing:
            report.add(Problem(str(folder / f), 0, "", "missing"))
        return None, report
    queries = _read_id_text(folder / "queries.jsonl", report, with_title=False)
    corpus = _read_id_text(folder / "corpus.jsonl", report, with_title=True)
    qrels_path = folder / "qrels.tsv"
    name = str(qrels_path)
    doc_index = {d: i for i, d in enumerate(corpus)}
    relevance: dict[str, dict[int, float]] = {}
    lines = list(_lines(qrels_path, report))
    if lines and lines[0][1].split("\t")[0].strip().lower() in ("query-id", "query_id", "qid"):
        lines = lines[1:]
    for number, text in lines:
        cols = next(csv.reader([text], delimiter="\t"))
        if len(cols) < 3:
            report.add(Problem(name, number, "", f"expected 3 tab-separated columns, got {len(cols)}"))
            continue
        qid, did, score = (c.strip() for c in cols[:3])
        try:
            grade = float(score)
        except ValueError:
            report.add(Problem(name, number, "score", "not a number"))
            continue
        if qid not in queries:
            report.add(Problem(name, number, "query-id", f"unknown query id {qid!r}"))
        elif did not in doc_index:
            report.add(Problem(name, number, "corpus-id", f"unknown corpus id {did!r}"))
        elif grade > 0:
            relevance.setdefault(qid, {})[doc_index[did]] = grade
    if not relevance and not report.errors:
        report.add(Problem(name, 0, "", "no relevant (score > 0) pairs"))
    if report.errors:
        return None, report
    qids = [q for q in queries if q in relevance]
    evalset = EvalSet([queries[q] for q in qids], list(corpus), list(corpus.values()), [relevance[q] for q in qids])
    return evalset, report


def load_eval(folder: str | Path) -> EvalSet:
    evalset, report = validate_eval(folder)
    if evalset is None:
        raise DataError(report.errors)
    return evalset


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def read_corpus(path: str | Path) -> tuple[list[str], Report]:
    """Extra passages for mining: JSONL with a `text` field (and an optional `title`) per line."""
    path = Path(path)
    report = Report()
    texts: list[str] = []
    for number, line in _lines(path, report):
        row = _json_object(str(path), number, line, report)
        if row is None:
            continue
        text, title = row.get("text"), row.get("title")
        if not isinstance(text, str) or not text.strip():
            report.add(Problem(str(path), number, "text", "missing, empty or not a string"))
            continue
        texts.append(f"{title}. {text}" if isinstance(title, str) and title.strip() else text)
    return texts, report


def rows_to_mine(input_path: str | Path, corpus_path: str | Path = "") -> tuple[list[dict], list[str]]:
    """`python -m trainer mine`'s input, checked before the engine loads: the valid rows and the extra
    passages; any problem raises DataError (file, line, field)."""
    report = validate_train(input_path, 1)
    problems = report.errors
    corpus: list[str] = []
    if corpus_path:
        corpus, corpus_report = read_corpus(corpus_path)
        problems += corpus_report.errors
    if problems:
        raise DataError(problems)
    return report.rows, corpus


def rows_to_score(input_path: str | Path) -> list[dict]:
    """`python -m trainer score`'s input, checked before the engine loads: rows with negatives to score
    (rows without are refused: mine them first)."""
    report = validate_train(input_path, 1)
    problems = list(report.errors)
    if report.without_negatives:
        problems.append(Problem(str(input_path), 0, "neg", f"{report.without_negatives} rows have no negatives to "
                                "score: mine them first (python -m trainer mine)"))
    if problems:
        raise DataError(problems)
    return report.rows


def write_jsonl_atomic(path: Path, rows: list[dict]) -> None:
    """Write next to `path`, then rename: a reader never sees half a file, and processes writing the
    same file at once (every torchrun rank) each swap in a whole one."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    write_jsonl(partial, rows)
    partial.replace(path)
