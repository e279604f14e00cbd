"""Child processes, one way for all: the worker's environment, starting a background job (mining, a scan, a
settings search) in its own session with its output in a log, a `python -m trainer` command whose answer is
its last JSON line, whether a child still lives, and a log's tail. No torch; data code (trainer.scan) starts
its job through here rather than through trainer.launch."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from trainer.core import gpus, redact

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A child just started, its pid not written yet (a run, a scan, a mining job), counts as alive this long.
START_GRACE_S = 60.0


def worker_env(num_gpus: int = 1, hub_token: bool = False) -> dict[str, str]:
    """The worker's environment. A run gets exactly the GPUs it asked for: HF Trainer in a single
    process would otherwise spread itself over every visible GPU with DataParallel. No secrets: a training
    worker (`hub_token`) gets the hub token under its own name, which it uses only to download (trainer.redact)."""
    env = dict(redact.child_env(dict(os.environ), hub_token), PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
               PYTHONUNBUFFERED="1")
    # Idle OpenMP threads sleep rather than spin: as fast alone, and the process's CPU time then stays the
    # compute's own when other work shares the cores (trainer.estimate measures speed by it)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    visible = env.get("CUDA_VISIBLE_DEVICES")
    ids = [i.strip() for i in visible.split(",")] if visible else [str(i) for i in range(len(gpus.detect()))]
    if len(ids) > num_gpus:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(ids[:num_gpus])
    return env


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a reused pid that is not our worker does not count
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return b"trainer" in cmdline and ") Z " not in stat


def log_tail(path: Path, size: int = 4000) -> str:
    """The end of a log, with anything secret masked (trainer.redact)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - size))
            return redact.redact(f.read().decode("utf-8", "replace"))
    except OSError:
        return ""


def trainer_command(args: list[str], timeout: float) -> dict:
    """`python -m trainer ARGS` in a child process (the dashboard never loads torch): its JSON answer
    (the last line it prints), or {"error": what went wrong}."""
    try:
        done = subprocess.run([sys.executable, "-m", "trainer", *args], capture_output=True, text=True,
                              cwd=PROJECT_ROOT, timeout=timeout, env=worker_env(1), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"error": f"no answer in {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout)[-800:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def spawn(argv: list[str], *, num_gpus: int = 1, hub_token: bool = False, **popen) -> subprocess.Popen:
    """Every long-lived child of the product starts here (a worker, torchrun, the search server): an argument
    list, never a shell, from the project folder, with `worker_env`'s environment (secrets stripped, GPUs pinned)."""
    return subprocess.Popen(argv, cwd=PROJECT_ROOT, env=worker_env(num_gpus, hub_token), **popen)


def end(pid: int, sig: int = signal.SIGTERM) -> None:
    """Signal a child we started: its whole process group when it leads one (start_child, a worker: torchrun's
    ranks and a mining job's helpers go too), else the process itself."""
    try:
        os.killpg(pid, sig) if os.getpgid(pid) == pid else os.kill(pid, sig)
    except ProcessLookupError:
        pass


def start_child(folder: Path, log_name: str, args: list[str]) -> int:
    """`python ARGS` in the background for a page (mining, a settings search): its own session (an app restart
    does not end it), output to folder/log_name; returns its pid. A thread reaps it, so it never lingers as a
    zombie."""
    with open(folder / log_name, "ab") as log:
        proc = spawn([sys.executable, *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                     start_new_session=True)
    threading.Thread(target=proc.wait, daemon=True).start()
    return proc.pid
