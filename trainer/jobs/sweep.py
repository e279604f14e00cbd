"""Let the data choose: a budgeted search over mode, learning rate and epochs (`python -m trainer sweep`,
the Find settings page). No torch: the trials are normal runs, trained by the worker through the queue.

- **Optuna** does the choosing: a study with the TPE sampler (its first trials: each chosen mode at the centre
  learning rate and the longest length) and a pruner (median by default) on each trial's validation score, kept in a journal file in the runs folder (`runs/studies/NAME/journal.log`),
  so a study survives an app restart or a killed process and goes on where it was.
- **Each trial is a run** in the store, tagged with the study (`runs.study`), queued through the existing
  queue (one run at a time per device) and named `NAME #N`. It trains with validation (the mode's main head,
  MRR@10, reported after every validation) and without the held-out test (RunConfig.held_out_test=False).
  A pruned trial is stopped and ends `pruned`; a failed one is recorded and the study goes on.
- **The winner** (best validation score of the mode's main head, taken at the last validation, i.e. the
  kept model; ties to the shorter run) is the only run tested on the held-out split, once, after the
  search (`python -m trainer test`, trainer.engine.held_out). "The best range found" is the learning rates
  of the trials the winner does not beat by more than the noise (a paired bootstrap over the validation
  questions, trainer.verdict): the suggestion is said to be within it or outside it.
- **The budget**: N trials or M minutes of trial time (the trials' run times, kept in the store, so a
  resumed study spends only what is left), whichever comes first; a trial still running when the time is
  up is stopped and counts with its last validation.
"""
from __future__ import annotations

import json
import math
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional

from trainer.jobs import launch
from trainer.core import children, metrics, verdict
from trainer.store import query_ranks
from trainer.core.config import Mode, RunConfig
from trainer.store import COMPLETED, FINAL, LIVE, PRUNED, STOPPED, WAITING, Store

STUDIES_DIR = "studies"
LR_SPAN = 4.0                 # the learning rate is searched from suggestion / 4 to suggestion x 4 (log-uniform)
SCORED_OUTCOMES = (COMPLETED, "budget")     # a trial's outcomes whose validation score counts (the page, `mine`)
PRUNERS = ("median", "halving", "none")     # the first is the default (Spec, the CLI, the page)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class Spec:
    """What a study searches and with what budget; kept as spec.json in the study's folder."""
    name: str
    base: dict                         # RunConfig as a dict: data, model, batch, ... (mode/LR/epochs are searched)
    modes: list[str]
    trials: int = 8
    budget_minutes: float = 60.0
    suggested_lr: float = 1e-5         # the product's suggestion for this model and data (trainer.suggest)
    center_lr: float = 1e-5            # the search's centre: the suggestion, or the learning rate the user gave
    epochs: Optional[list[int]] = None  # [low, high] searched; None: fixed (max_steps decides the length)
    pruner: str = PRUNERS[0]
    created: float = field(default_factory=time.time)

    @property
    def config(self) -> RunConfig:
        return RunConfig.from_json(json.dumps(self.base))

    @property
    def lr_range(self) -> tuple[float, float]:
        return self.center_lr / LR_SPAN, self.center_lr * LR_SPAN


def folder(store: Store, name: str) -> Path:
    return store.runs_dir / STUDIES_DIR / name


def new_name() -> str:
    return "sweep-" + time.strftime("%m%d-%H%M%S")


def make_spec(store: Store, base: RunConfig, modes: list[Mode], *, trials: int, budget_minutes: float,
              given: set[str], name: str = "", epochs: Optional[tuple[int, int]] = None,
              pruner: str = PRUNERS[0]) -> Spec:
    """The study's spec from a base config. The learning rate is centred on the suggestion for this model and
    data (trainer.suggest), or on the one the user gave; epochs are searched over [1, base.epochs] unless
    `max_steps` fixes the length."""
    from trainer.sizing.suggest import with_suggestions

    name = name or new_name()
    if not NAME_RE.match(name):
        raise ValueError(f"study name {name!r}: letters, digits, '.', '_' and '-' only (at most 64)")
    if trials < 1:
        raise ValueError(f"--trials {trials}: at least 1")
    if not budget_minutes > 0:
        raise ValueError(f"--budget-minutes {budget_minutes}: must be more than 0")
    if pruner not in PRUNERS:
        raise ValueError(f"--pruner {pruner!r}: one of {', '.join(PRUNERS)}")
    suggested = with_suggestions(base, given - {"learning_rate"}, store).learning_rate
    base = with_suggestions(base, given, store)
    if epochs is None and base.max_steps <= 0:
        epochs = (1, max(1, base.epochs))
    if epochs is not None and not 1 <= epochs[0] <= epochs[1]:
        raise ValueError(f"--epochs-range {epochs[0]}-{epochs[1]}: must be 1 <= A <= B")
    data = json.loads(base.to_json())
    return Spec(name=name, base=data, modes=[Mode(m).value for m in modes], trials=trials,
                budget_minutes=budget_minutes, suggested_lr=suggested, center_lr=base.learning_rate,
                epochs=list(epochs) if epochs else None, pruner=pruner)


def trial_config(spec: Spec, number: int, mode: str, learning_rate: float, epochs: Optional[int]) -> RunConfig:
    changes = dict(mode=Mode(mode), learning_rate=learning_rate, held_out_test=False, name=f"{spec.name} #{number}")
    if epochs is not None:
        changes["epochs"] = epochs
    return spec.config.replace(**changes)


def check(store: Store, spec: Spec):
    """The same refusals as `train`: every problem (file, line, field) of a trial's config, before anything is
    stored."""
    from trainer.planning import checks

    low, high = spec.lr_range
    problems = []
    for mode in spec.modes:
        found, _ = checks.check(trial_config(spec, 0, mode, high, spec.epochs[1] if spec.epochs else None), store)
        problems += [p for p in found if p not in problems]
    return problems


def trial_lengths(spec: Spec) -> list[Optional[int]]:
    """Each trial's epochs as the search will likely draw them: its first trials (one a mode) the longest, the
    rest the middle of the range; None where max_steps fixes the length."""
    if not spec.epochs:
        return [None] * spec.trials
    first = min(spec.trials, len(spec.modes))
    middle = round((spec.epochs[0] + spec.epochs[1]) / 2)
    return [spec.epochs[1]] * first + [middle] * (spec.trials - first)


def budget_check(store: Store, spec: Spec) -> Optional[dict]:
    """Whether the time budget fits the trials asked, from each trial's duration estimate (trainer.estimate, scaled
    from a measured run; pruning can only shorten trials): {"fits": trials that fit, "needed_minutes": all of
    them, "trial_s": the mean trial, "source": the measured run}. None without an estimate (no run measured yet)."""
    from trainer.sizing import estimate
    from trainer.core import gpus

    gpu = bool(gpus.detect())
    rows = estimate.training_rows(store, spec.config)[0]
    durations, source, cache = [], "", {}
    for number, epochs in enumerate(trial_lengths(spec)):
        mode = spec.modes[number % len(spec.modes)]
        if (mode, epochs) not in cache:
            guess = estimate.for_run(store, trial_config(spec, number, mode, spec.center_lr, epochs), rows, gpu)
            if guess is None:
                return None
            cache[mode, epochs], source = guess.seconds, guess.source
        durations.append(cache[mode, epochs])
    spent, fits = 0.0, 0
    for seconds in durations:
        spent += seconds
        fits += spent <= spec.budget_minutes * 60
    return {"fits": fits, "trials": spec.trials, "needed_minutes": sum(durations) / 60,
            "trial_s": sum(durations) / len(durations), "source": source}


def budget_words(fit: dict, budget_minutes: float) -> str:
    """budget_check's shortfall in English (the CLI; the page words it in its language)."""
    return (f"the time budget ({budget_minutes:g} min) fits about {fit['fits']} of the {fit['trials']} trials asked "
            f"(about {fit['trial_s'] / 60:.1f} min a trial, estimated from run {fit['source']}): all of them need about "
            f"{math.ceil(fit['needed_minutes'])} min. Raise the budget, or ask for fewer trials")


def save(store: Store, spec: Spec) -> None:
    where = folder(store, spec.name)
    if (where / "spec.json").exists():
        raise FileExistsError(f"a study named {spec.name!r} exists already ({where})")
    where.mkdir(parents=True)
    (where / "spec.json").write_text(json.dumps(asdict(spec), indent=1), encoding="utf-8")


def load(store: Store, name: str) -> Spec:
    path = folder(store, name) / "spec.json"
    if not path.is_file():
        raise FileNotFoundError(f"no study named {name!r} in {store.runs_dir / STUDIES_DIR}")
    return Spec(**json.loads(path.read_text(encoding="utf-8")))


def names(store: Store) -> list[str]:
    """Every study in the runs folder, newest first."""
    found = sorted((store.runs_dir / STUDIES_DIR).glob("*/spec.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    return [p.parent.name for p in found]


def _pruner(kind: str):
    import optuna

    if kind == "median":      # below the median of earlier trials at the same validation; the first two run whole
        # never at a trial's first validation (its warmup may still be under way)
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=2)   # earliest: the 2nd validation
    if kind == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


def study(store: Store, spec: Spec, pruner=None):
    """The Optuna study behind a spec (created on first use), from its journal file."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(str(folder(store, spec.name) / "journal.log")))
    config = spec.config
    found = optuna.create_study(study_name=spec.name, storage=storage, direction="maximize",
                                pruner=pruner or _pruner(spec.pruner), load_if_exists=True)
    # Seeded from the run's seed and the trials so far: a fresh study repeats itself, and a study going on in a
    # new process does not draw the same "random" first trials again (the seed alone would).
    found.sampler = optuna.samplers.TPESampler(seed=config.seed + len(found.get_trials(deepcopy=False)),
                                               n_startup_trials=min(10, max(2, spec.trials // 2)))
    return found


# The driver -----------------------------------------------------------------------------------------------
def _driver_file(store: Store, name: str) -> Path:
    return folder(store, name) / "driver.json"


def driver_pid(store: Store, name: str) -> Optional[int]:
    """The process driving the study now, or None."""
    try:
        pid = json.loads(_driver_file(store, name).read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return None
    return pid if children.pid_alive(pid) else None


def spent_s(store: Store, name: str) -> float:
    """Trial time spent so far: the study's runs from start (or creation, while queued) to end (or now)."""
    now = time.time()
    return sum((r.ended or now) - (r.started or now) for r in store.study_runs(name))


def run(store: Store, name: str, *, pruner=None, poll_s: float = 1.0, say: Callable[[str], None] = print) -> dict:
    """Drive the study to its end (N trials or the time budget), then test the winner; returns `summary`.
    Resumes a study another process left: its running trials are followed to their end first."""
    from optuna.trial import TrialState

    spec = load(store, name)
    other = driver_pid(store, name)
    if other and other != os.getpid():
        raise RuntimeError(f"study {name!r} is already being run by process {other}")
    _driver_file(store, name).write_text(json.dumps({"pid": os.getpid(), "started": time.time()}))
    try:
        optuna_study = study(store, spec, pruner)
        if not optuna_study.get_trials(deepcopy=False):
            # The first trials: each mode at the centre learning rate (the suggestion, unless one was given) and
            # the longest length, so every chosen mode is tried and the suggestion is measured, not assumed.
            for mode in spec.modes[:spec.trials]:
                optuna_study.enqueue_trial({k: v for k, v in (("mode", mode), ("learning_rate", spec.center_lr),
                                                               ("epochs", spec.epochs[1] if spec.epochs else None))
                                            if v is not None and (k != "mode" or len(spec.modes) > 1)})
        launch.recover(store)
        known = {t.user_attrs.get("run_id") for t in optuna_study.get_trials(deepcopy=False)}
        for orphan in store.study_runs(name):     # queued by a process that died before it named the run
            if orphan.id not in known and (orphan.status == WAITING or orphan.live and not children.pid_alive(orphan.pid)):
                store.set_status(orphan.id, STOPPED, error="its settings search ended before it started",
                                 only_if=(WAITING, *LIVE))
        for trial in optuna_study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            run_id = trial.user_attrs.get("run_id")
            if run_id is None:            # the process died between asking and queueing
                optuna_study.tell(trial.number, state=TrialState.FAIL)
                continue
            say(f"resuming: trial {trial.number} is run {run_id}")
            _follow(store, spec, optuna_study, trial.number, run_id, poll_s, say)
        _stop_marker(store, name).unlink(missing_ok=True)       # the search goes on
        while True:
            if len(counted(optuna_study.get_trials(deepcopy=False))) >= spec.trials:
                break
            if spent_s(store, name) >= spec.budget_minutes * 60:
                say(f"the time budget ({spec.budget_minutes:g} min) is spent")
                break
            trial = optuna_study.ask()
            low, high = spec.lr_range
            mode = trial.suggest_categorical("mode", spec.modes) if len(spec.modes) > 1 else spec.modes[0]
            lr = float(f"{trial.suggest_float('learning_rate', low, high, log=True):.3g}")
            epochs = trial.suggest_int("epochs", *spec.epochs) if spec.epochs else None
            cfg = trial_config(spec, trial.number, mode, lr, epochs)
            try:
                run_id = launch.enqueue(store, [cfg], study=name)[0]
            except (launch.InvalidRun, launch.RunBusy) as refused:
                trial.set_user_attr("error", str(refused)[:500])
                optuna_study.tell(trial, state=TrialState.FAIL)
                say(f"trial {trial.number} refused: {refused}")
                continue
            trial.set_user_attr("run_id", run_id)
            say(f"trial {trial.number}: run {run_id}, {mode}, learning rate {lr:g}"
                + (f", {epochs} epochs" if epochs else ""))
            _follow(store, spec, optuna_study, trial.number, run_id, poll_s, say)
        best = winner(store, spec, optuna_study)
        if best is not None and not store.metrics(best.user_attrs["run_id"], prefix=metrics.TEST):   # tested once
            say(f"winner: trial {best.number} (run {best.user_attrs['run_id']}), validation {best.value:.4f}; "
                f"testing it on the held-out split")
            tested = children.trainer_command(["test", best.user_attrs["run_id"], "--runs-dir", str(store.runs_dir)],
                                            timeout=3600)
            if "error" in tested:
                say(f"the held-out test failed: {tested['error']}")
        answer = summary(store, name, optuna_study)
        (folder(store, name) / "result.json").write_text(json.dumps(answer, indent=1), encoding="utf-8")
        return answer
    finally:
        try:
            if json.loads(_driver_file(store, name).read_text()).get("pid") == os.getpid():
                _driver_file(store, name).unlink()
        except (OSError, ValueError):
            pass


def _follow(store: Store, spec: Spec, optuna_study, number: int, run_id: str, poll_s: float,
            say: Callable[[str], None]) -> None:
    """Wait for a trial's run to end, reporting each validation of its main score to the pruner (and stopping
    the run when it says prune, or when the budget is spent); then tell Optuna how it ended."""
    from optuna.trial import TrialState

    from trainer.hooks import optuna_trials

    frozen = optuna_study.get_trials(deepcopy=False)[number]
    trial = optuna_trials.live_trial(optuna_study, frozen)
    metric = store.get_run(run_id).config.mode.main_score
    # Reported by validation: the 1st, 2nd, ... after step 0 (one an epoch), so trials of different lengths
    # line up; a resumed trial goes on after those already reported.
    reported = len(frozen.intermediate_values)
    pruned = bool(trial.user_attrs.get("pruned_at"))
    stopped = False
    after, seen = 0, 0
    while True:
        run = store.get_run(run_id)
        for point in store.metrics(run_id, after_id=after):
            after = point.id
            if point.name != metric or point.step == 0:
                continue
            seen += 1
            if seen <= reported:
                continue
            trial.report(point.value, seen)
            reported = seen
            if not pruned and trial.should_prune():
                pruned = True
                trial.set_user_attr("pruned_at", point.step)
                store.request_stop(run_id)
                say(f"trial {number}: pruned at step {point.step} ({metric} {point.value:.4f})")
        if run.status in FINAL:
            break
        if run.status == WAITING:
            launch.start_next(store)               # no dashboard may be running to start the queue
        elif run.status in LIVE and run.pid and not children.pid_alive(run.pid):
            launch.recover(store)                  # its worker died without a word
        if not stopped and not pruned and spent_s(store, spec.name) >= spec.budget_minutes * 60 \
                and run.status not in (WAITING,):
            stopped = True
            store.request_stop(run_id)
            say(f"trial {number}: stopped, the time budget is spent")
        time.sleep(poll_s)
    scores = [p for p in store.metrics(run_id, prefix=metric) if p.name == metric and p.step > 0]
    if pruned:
        store.set_status(run_id, PRUNED, error=f"pruned by the settings search {spec.name!r} at step "
                         f"{trial.user_attrs['pruned_at']}: its validation {metric} was below the other trials'",
                         only_if=(STOPPED, COMPLETED))
        optuna_study.tell(number, state=TrialState.PRUNED)
    elif run.status == STOPPED and not stopped and _stop_marker(store, spec.name).exists():
        # The search was stopped (its page's Stop, or Ctrl-C) while this trial trained: it runs again, whole,
        # when the search goes on, and does not count as one of its trials.
        trial.set_user_attr("stopped_by_user", True)
        optuna_study.tell(number, state=TrialState.FAIL)
        optuna_study.enqueue_trial(frozen.params, user_attrs={"rerun_of": number})
        say(f"trial {number}: stopped with the search; it runs again when the search goes on")
    elif run.status in (COMPLETED, STOPPED) and scores:
        optuna_study.tell(number, scores[-1].value)
        say(f"trial {number}: {run.status}, {metric} {scores[-1].value:.4f}")
    else:
        trial.set_user_attr("error", (run.error or run.status)[:500])
        optuna_study.tell(number, state=TrialState.FAIL)
        say(f"trial {number}: {run.status}" + (f" ({run.error.splitlines()[0]})" if run.error else ""))


def _stop_marker(store: Store, name: str) -> Path:
    """Written by `stop` (the search was stopped), removed when the search goes on and its stopped trial is
    re-queued."""
    return folder(store, name) / "stopped"


def counted(trials) -> list:
    """The trials that count towards the study's N: ended, and not stopped with the search (those run again)."""
    return [t for t in trials if t.state.is_finished() and not t.user_attrs.get("stopped_by_user")]


def winner(store: Store, spec: Spec, optuna_study):
    """The completed trial with the best validation score; ties to the shorter run."""
    from optuna.trial import TrialState

    done = [t for t in optuna_study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    if not done:
        return None
    durations = {s.run_id: s.duration_s for s in store.summaries([t.user_attrs["run_id"] for t in done]).values()}
    return min(done, key=lambda t: (-round(t.value, 6), durations.get(t.user_attrs["run_id"], math.inf)))


def _final_ranks(run, head: str) -> Optional[list]:
    """The kept model's per-question validation ranks on `head` (its last validation), or None."""
    validations = query_ranks.load(run.folder.root)
    return validations[-1]["ranks"].get(head) if validations else None


def _clearly_behind(ranks: Optional[list], best: Optional[list]) -> bool:
    """Whether the winner's validation beats a trial's by more than its noise: a paired bootstrap over the
    validation questions of the two kept models (trainer.verdict), from their per-question ranks."""
    if ranks is None or best is None or ranks is best:
        return False
    change = verdict.paired(ranks, best)
    return change is not None and change.word == verdict.BETTER


def _untrained(store: Store, run_id: str, metric: str) -> Optional[float]:
    """The trial's score at step 0, before any training: each mode's own baseline."""
    return next((p.value for p in store.metrics(run_id, prefix=metric) if p.name == metric and p.step == 0), None)


def summary(store: Store, name: str, optuna_study=None) -> dict:
    """The study as the command's --json prints it and the page shows it."""
    from optuna.trial import TrialState

    spec = load(store, name)
    optuna_study = optuna_study or study(store, spec)
    runs = {r.id: r for r in store.study_runs(name)}
    trials = []
    every = optuna_study.get_trials(deepcopy=False)
    reruns = {t.user_attrs["rerun_of"]: t.number for t in every if "rerun_of" in t.user_attrs}
    driving = driver_pid(store, name) is not None
    stopped_search = _stop_marker(store, name).exists()
    for t in every:
        run = runs.get(t.user_attrs.get("run_id"))
        cfg = run.config if run else None
        trials.append({
            "outcome": outcome(t, run, driving, stopped_search, reruns.get(t.number)),
            "rerun_as": reruns.get(t.number), "rerun_of": t.user_attrs.get("rerun_of"),
            "number": t.number, "run_id": run.id if run else None, "state": t.state.name.lower(),
            "mode": cfg.mode.value if cfg else t.params.get("mode", spec.modes[0]),
            "learning_rate": cfg.learning_rate if cfg else t.params.get("learning_rate"),
            "epochs": (cfg.epochs if cfg.max_steps <= 0 else None) if cfg else t.params.get("epochs"),
            "status": run.status if run else ("failed" if t.state == TrialState.FAIL else "running"),
            "val_score": t.value if t.state == TrialState.COMPLETE else
            (max(t.intermediate_values.items())[1] if t.intermediate_values else None),
            "metric": cfg.mode.main_score if cfg else None,
            "val_before": _untrained(store, run.id, cfg.mode.main_score) if run else None,
            "stopped_by_user": bool(t.user_attrs.get("stopped_by_user")),
            "error": t.user_attrs.get("error")})
    best = winner(store, spec, optuna_study)
    answer: dict = {"study": name, "trials": trials, "best": None, "suggested_learning_rate": spec.suggested_lr,
                    "learning_rate_range": list(spec.lr_range), "modes": spec.modes, "budget_minutes": spec.budget_minutes,
                    "max_trials": spec.trials, "spent_s": round(spent_s(store, name), 1),
                    "ended": len(counted(optuna_study.get_trials(deepcopy=False))),
                    "running": driver_pid(store, name) not in (None, os.getpid()),
                    "live_runs": any(map(_busy, runs.values()))}
    if best is not None:
        entry = next(t for t in trials if t["number"] == best.number)
        metric = entry["metric"]
        test = {p.step: p.value for p in store.metrics(entry["run_id"], prefix=metrics.TEST) if p.name == metrics.test(metric)}
        answer["best"] = dict(entry, test_score=test[max(test)] if test else None,
                              test_score_before=test[min(test)] if len(test) > 1 else None)
        complete = {t.number for t in optuna_study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
        head = metric.split(".")[0]
        candidates = {t["number"]: _final_ranks(runs[t["run_id"]], head) for t in trials
                      if t["number"] in complete and t["metric"] == metric}
        near = [t for t in trials if t["number"] in candidates
                and not _clearly_behind(candidates[t["number"]], candidates[best.number])]
        low, high = min(t["learning_rate"] for t in near), max(t["learning_rate"] for t in near)
        answer["best_range"] = [low, high]
        answer["best_range_trials"] = [t["number"] for t in near]
        answer["suggestion_within"] = low <= spec.suggested_lr <= high
        answer["suggested"] = _suggested_vs_winner(spec, trials, runs, answer["best"])
    return answer


# One status per trial, in words the page and the command share: what became of it, stop and "go on" included.
OUTCOMES = ("completed", "budget", "pruned", "failed", "running", "waiting", "starting", "not_started",
            "rerun_pending", "reran")


def outcome(trial, run, driving: bool, stopped_search: bool, rerun_as: Optional[int]) -> str:
    """What became of a trial, one of OUTCOMES: `completed`; `budget` (stopped when the time budget was spent,
    scored at its last validation); `pruned`; `failed`; `running` / `waiting` (in the queue) / `starting` (asked,
    its run not yet queued); `not_started` (the search stopped before its run was queued); `rerun_pending` (stopped
    with the search: it runs again, whole, when the search goes on) and `reran` (it did, as trial `rerun_as`)."""
    from optuna.trial import TrialState

    if trial.user_attrs.get("stopped_by_user"):
        return "reran" if rerun_as is not None else "rerun_pending"
    if trial.state == TrialState.PRUNED or (run is not None and run.status == PRUNED):
        return "pruned"
    if run is None:
        if trial.state in (TrialState.RUNNING, TrialState.WAITING):
            return "starting" if driving else "not_started"
        return "failed"
    if run.status == WAITING:
        return "waiting" if driving else "not_started"
    if run.live:
        return "running"
    if trial.state == TrialState.COMPLETE:
        return "budget" if run.status == STOPPED else "completed"
    if trial.state == TrialState.RUNNING and run.status == STOPPED and (stopped_search or not driving):
        return "rerun_pending"            # the search was stopped with it: told so when the search goes on
    if trial.state == TrialState.RUNNING and driving:
        return "running"                  # ended, and its driver is about to record how
    return "failed"


def _suggested_vs_winner(spec: Spec, trials: list[dict], runs: dict, best: dict) -> Optional[dict]:
    """The suggested settings (Configure's mode, the centre learning rate, the longest length: the search's first
    trial of that mode, or its re-run) against the winner: their validation scores, the difference and whether it
    is beyond the noise (a paired bootstrap over the validation questions, trainer.verdict)."""
    mode = spec.base.get("mode") if spec.base.get("mode") in spec.modes else spec.modes[0]
    longest = spec.epochs[1] if spec.epochs else None
    same = [t for t in trials if t["mode"] == mode and t["learning_rate"] is not None
            and math.isclose(t["learning_rate"], spec.center_lr, rel_tol=5e-3)
            and (longest is None or t["epochs"] == longest) and t["outcome"] not in ("reran", "rerun_pending")]
    if not same:
        return None
    mine = same[0]
    answer = {"number": mine["number"], "mode": mode, "learning_rate": mine["learning_rate"], "epochs": mine["epochs"],
              "outcome": mine["outcome"], "val_score": mine["val_score"], "won": mine["number"] == best["number"]}
    if mine["outcome"] not in SCORED_OUTCOMES or mine["val_score"] is None:
        return answer
    if answer["won"]:        # by how much: against the best of the others
        others = [t for t in trials if t["number"] != mine["number"] and t["outcome"] in ("completed", "budget")
                  and t["val_score"] is not None]
        if not others:
            return answer
        rival = max(others, key=lambda t: t["val_score"])
        ahead, behind = mine, rival
    else:
        rival, ahead, behind = best, best, mine
    change = verdict.paired(_final_ranks(runs[behind["run_id"]], behind["metric"].split(".")[0]) or [],
                            _final_ranks(runs[ahead["run_id"]], ahead["metric"].split(".")[0]) or [])
    answer.update(rival=rival["number"], rival_score=rival["val_score"],
                  margin=ahead["val_score"] - behind["val_score"],
                  clear=None if change is None else change.word == verdict.BETTER,
                  questions=None if change is None else change.questions)
    return answer


def start(store: Store, spec: Spec) -> None:
    """The page's Start: save the spec, then drive the study in a child process (`resume`)."""
    save(store, spec)
    resume(store, spec.name)


def resume(store: Store, name: str) -> None:
    """Drive a saved study in a child process (`python -m trainer sweep --study NAME`), its output in the
    study's folder; a refresh or an app restart finds it again (driver_pid)."""
    spec = load(store, name)
    pid = children.start_child(folder(store, spec.name), "driver.log",
                             ["-m", "trainer", "sweep", "--study", spec.name, "--runs-dir", str(store.runs_dir)])
    _driver_file(store, spec.name).write_text(json.dumps({"pid": pid, "started": time.time()}))


def stop(store: Store, name: str) -> None:
    """End the driver and the trial it trains (marked `stopped`: it runs again, whole, when the study goes
    on); trials still waiting in the queue end too. `resume` goes on from there."""
    _stop_marker(store, name).touch()
    pid = driver_pid(store, name)
    if pid and pid != os.getpid():
        children.end(pid)
    for run in store.study_runs(name):
        if run.status == WAITING:
            store.set_status(run.id, STOPPED, error="the settings search was stopped before it started",
                             only_if=(WAITING,))
        elif run.live:
            store.request_stop(run.id)


def finished(result: dict) -> bool:
    """No trial is left to run: N trials ended, or the time budget is spent."""
    return result["ended"] >= result["max_trials"] or result["spent_s"] >= result["budget_minutes"] * 60


def _busy(run) -> bool:
    """A trial's run that holds or waits for the device."""
    return run.live or run.status == WAITING


def active(store: Store, name: str) -> bool:
    """Something of the study is going on: its driver, or a trial running or queued."""
    return driver_pid(store, name) is not None or any(map(_busy, store.study_runs(name)))


def log_tail(store: Store, name: str) -> str:
    return children.log_tail(folder(store, name) / "driver.log", 3000)
