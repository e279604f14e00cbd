"""Time estimates that hold on a shared machine (trainer.estimate): a run measured while other work shared the
cores is scaled at its compute speed (process CPU seconds on the CPU, the device's step times on a GPU) and
says it was slowed; the Train page's time left holds from its first minute; the advice to shorten a run says
what it cuts. Stored points, no training (bench/estimate_accuracy.py trains for real)."""
import json
import time

import pytest

from app import chart_data as cd
from trainer.sizing import estimate
from trainer.core.config import Mode, RunConfig
from trainer.core.metrics import Metric
from trainer.store import COMPLETED, Store


def cpu_run(store: Store, *, steps=40, compute_s=1.0, threads=2, slowed=lambda step: 1.0, eval_compute_s=3.0,
            startup_s=10.0, parallel=0.93, epochs=2, cfg=None, optimizer_s=0.0) -> str:
    """A finished CPU run written into the store as the worker writes it: a step takes `compute_s` seconds on
    idle cores (`optimizer_s` of it the optimizer's update, one thread) and `parallel` × threads CPU seconds
    per second of the rest; `slowed(step)` stretches its wall clock
    (other work on the cores: its threads wait for one) but not its CPU seconds."""
    run_id = store.create_run(cfg or RunConfig(mode=Mode.DENSE, epochs=epochs))
    store.set_status(run_id, "running")
    start = store.get_run(run_id).started
    per_s = parallel * threads
    t, cpu, wait, optimizer = start + startup_s * slowed(0), startup_s, 0.0, 0.0      # loading: one thread
    points = [(0, 0.0, Metric.THREADS, threads, t), (0, 0.0, Metric.TOTAL_STEPS, steps, t)]

    def validation(step, epoch):
        nonlocal t, cpu
        points.extend([(step, epoch, Metric.EVAL_SECONDS, eval_compute_s * slowed(step), t),
                       (step, epoch, Metric.EVAL_CPU_SECONDS, eval_compute_s * per_s, t)])
        t += eval_compute_s * slowed(step)
        cpu += eval_compute_s * per_s

    validation(0, 0.0)
    for step in range(1, steps + 1):
        warm = 3.0 if step <= estimate.WARM_UP_STEPS else 1.0        # the first steps allocate
        t += compute_s * warm * slowed(step)
        cpu += (compute_s * warm - optimizer_s) * per_s + optimizer_s
        optimizer += optimizer_s
        wait += compute_s * warm * (slowed(step) - 1) * threads     # its threads ready, the cores busy elsewhere
        epoch = step * epochs / steps
        points.extend([(step, epoch, Metric.LOSS, 1.0, t), (step, epoch, Metric.CPU_SECONDS, cpu, t),
                       (step, epoch, Metric.CPU_WAIT_SECONDS, wait, t),
                       (step, epoch, Metric.OPTIMIZER_CPU_SECONDS, optimizer, t)])
        if step % (steps // epochs) == 0:
            validation(step, epoch)
    store.add_points(run_id, points)
    store.set_status(run_id, COMPLETED)
    return run_id


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "runs")


def test_a_source_measured_under_load_is_scaled_at_its_compute_speed_and_says_it_was_slowed(tmp_path):
    idle_store, loaded_store, part_store = (Store(tmp_path / name) for name in ("idle", "loaded", "part"))
    idle = estimate.measure(idle_store, idle_store.get_run(cpu_run(idle_store)))
    assert idle.step_s == pytest.approx(1.0, rel=0.02) and idle.eval_s == pytest.approx(3.0, rel=0.02)
    # start-up: 10 s of loading and the first step's warm-up beyond a step's pace
    assert idle.slowed == pytest.approx(1.0, abs=0.02) and idle.startup_s == pytest.approx(12.0, rel=0.05)
    # the case: the whole run shared the cores, its wall clock 4.7× the idle one
    loaded = estimate.measure(loaded_store, loaded_store.get_run(cpu_run(loaded_store, slowed=lambda step: 4.7)))
    assert loaded.step_s == pytest.approx(1.0, rel=0.25) and loaded.eval_s == pytest.approx(3.0, rel=0.25)
    assert loaded.startup_s == pytest.approx(idle.startup_s, rel=0.25) and loaded.slowed > 3.5
    # the cores its own for a while: the parallelism it reached then converts its CPU seconds
    part = estimate.measure(part_store, part_store.get_run(
        cpu_run(part_store, slowed=lambda step: 1.0 if step < 15 else 3.0, parallel=0.8)))
    assert part.step_s == pytest.approx(1.0, rel=0.05) and part.slowed > 1.8
    # a step's optimizer update (one thread) is its fixed part: it does not grow with the texts
    fixed_store = Store(tmp_path / "fixed")
    fixed = estimate.measure(fixed_store, fixed_store.get_run(
        cpu_run(fixed_store, slowed=lambda step: 1.0 if step < 15 else 3.0, optimizer_s=0.4)))
    assert fixed.step_s == pytest.approx(1.0, rel=0.05) and fixed.fixed_s == pytest.approx(0.4)
    cfg = RunConfig(mode=Mode.DENSE, epochs=2)
    assert estimate.for_run(fixed_store, cfg.replace(batch_size=16), 180).step_s == pytest.approx(0.4 + 2 * 0.6, rel=0.05)
    # another run's estimate from the loaded source: within 25 % of the one from the idle source, and it says
    cfg = RunConfig(mode=Mode.DENSE, epochs=3, batch_size=16)
    from_idle, from_loaded = estimate.for_run(idle_store, cfg, 180), estimate.for_run(loaded_store, cfg, 180)
    assert from_loaded.seconds == pytest.approx(from_idle.seconds, rel=0.25)
    assert from_loaded.slowed >= estimate.SLOWED > from_idle.slowed


def test_a_gpu_source_whose_host_was_starved_is_scaled_at_the_devices_step_times(store):
    cfg = RunConfig(mode=Mode.DENSE, epochs=1, batch_size=8)
    run_id = store.create_run(cfg)
    store.set_status(run_id, "running")
    t = store.get_run(run_id).started + 5
    points = [(0, 0.0, Metric.PEAK_GPU_GIB, 3.0, t)]
    for step in range(1, 21):
        t += 2.0                                   # the wall clock: 2 s a step, the device worked 0.5 s of it
        points += [(step, step / 20, Metric.LOSS, 1.0, t), (step, step / 20, Metric.SAMPLES_PER_S, 8 / 0.5, t)]
    store.add_points(run_id, points)
    store.set_status(run_id, COMPLETED)
    m = estimate.measure(store, store.get_run(run_id))
    assert m.gpu and m.step_s == pytest.approx(0.5) and m.slowed == pytest.approx(4.0)


def test_the_time_left_holds_within_a_quarter_from_the_first_minute():
    """A run's points as the worker writes them: slow warm-up steps, a validation at each epoch's end and a
    held-out test after; at every point past its first minute the time left is within 25 % of the truth."""
    points, t, step_s, eval_s, steps, epochs = [], 100.0, 2.5, 12.0, 120, 3
    start = t
    points.append((0, 0.0, Metric.EVAL_SECONDS, eval_s, t))
    t += eval_s
    for step in range(1, steps + 1):
        t += step_s * (4 if step <= estimate.WARM_UP_STEPS else 1) * (1.1 if step % 7 == 0 else 1.0)
        points.append((step, step * epochs / steps, Metric.LOSS, 1.0, t))
        if step % (steps // epochs) == 0:
            t += eval_s
            points.append((step, step * epochs / steps, Metric.EVAL_SECONDS, eval_s, t))
    end = t + 0.5                                  # the held-out test: the last validation's passages again
    checked = 0
    for i, p in enumerate(points):
        if p[4] - start < 60 or p[2] != Metric.LOSS:
            continue
        df = cd.frame((n, *point) for n, point in enumerate(points[:i + 1]))
        _, left = cd.progress(df, steps, epochs)
        assert left == pytest.approx(end - p[4], rel=0.25), (p[0], left, end - p[4])
        checked += 1
    assert checked > 80


def test_shortening_advice_says_what_it_cuts(store, tmp_path):
    path = long_pairs(tmp_path)
    cfg = RunConfig(mode=Mode.DENSE, train_data=str(path), passage_max_len=256)
    cpu_run(store, cfg=cfg)
    fit = estimate.fit_passage_len(store, cfg, 40, budget_s=10**6)
    assert fit.passage_max_len == 256 and fit.dropped == 0.0 and 130 <= fit.typical <= 150
    tight = estimate.fit_passage_len(store, cfg, 40, budget_s=estimate.for_run(store, cfg.replace(passage_max_len=96),
                                                                                 40).seconds + 1)
    assert tight.passage_max_len == 96 and 0.2 < tight.dropped < 0.5


def test_the_speed_check_stops_once_it_has_stepped_its_budget(store):
    run_id = store.create_run(RunConfig(mode=Mode.DENSE))
    now = time.time()
    store.add_points(run_id, [(s, 0.0, Metric.LOSS, 1.0, now + 3 * s) for s in range(1, 5)])
    assert not estimate.speed_check_done(store, run_id)
    store.add_points(run_id, [(s, 0.0, Metric.LOSS, 1.0, now + 3 * s) for s in range(5, 9)])
    assert estimate.speed_check_done(store, run_id)
    assert estimate.speed_check_seconds(store, RunConfig()) == estimate.SPEED_LOAD_S + estimate.SPEED_BUDGET_S


def long_pairs(tmp_path):
    """40 pairs whose answers run from 60 to 216 words (about as many tokens)."""
    rows = [{"query": f"question {i}", "pos": [" ".join(["word"] * (60 + 4 * i))]} for i in range(40)]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("load", [1.0, 4.7])
def test_configure_says_a_source_was_slowed_and_offers_cuts_only_on_a_sound_estimate(tmp_path, monkeypatch, load):
    """A long run on a file of long answers (dense, 200 epochs), scaled from a run measured idle or beside
    other work."""
    from apptest import open_page

    from app.i18n import EN

    monkeypatch.setenv("M3_RUNS_DIR", str(tmp_path / "runs"))
    store = Store(tmp_path / "runs")
    path = long_pairs(tmp_path)
    cpu_run(store, slowed=lambda step: load, cfg=RunConfig(mode=Mode.DENSE, train_data=str(path), passage_max_len=256))
    at = open_page("configure", "en", timeout=120)
    at.radio(key="cfg_data_choice__en").set_value("path").run()
    at.text_input(key="cfg_train").set_value(str(path)).run()
    at.button(key="mode_dense").click()
    at.number_input(key="cfg_epochs").set_value(200)
    at.number_input(key="cfg_passage_max_len").set_value(256)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    warning = " ".join(w.value for w in at.warning)
    assert EN["configure.time.long"] in warning
    slowed_note = EN["configure.time.slowed"].split("{")[0]
    if load > 1:        # no cut offered on a stretched measurement
        assert slowed_note in warning and not [b for b in at.button if b.key == "fit_lengths"]
        assert EN["configure.time.unsound"] in [c.value for c in at.caption]
        return
    assert slowed_note not in warning and EN["configure.time.unsound"] not in [c.value for c in at.caption]
    at.number_input(key="cfg_time_budget_min").set_value(12).run()
    fit = [b for b in at.button if b.key == "fit_lengths"]
    assert fit, [w.value for w in at.warning]
    # a cut below the answers' typical length (~140 tokens): the share of their text dropped is said
    length = int(fit[0].label.split()[3])
    said = [w.value for w in at.warning] + [c.value for c in at.caption]
    assert any(EN["configure.time.fit_cut"].split("{")[0] in x and "%" in x for x in said), (length, said)
