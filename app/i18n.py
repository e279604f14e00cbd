"""Every visible text of the dashboard, one table per language. Pages call app.ui.t(key)."""
from trainer.core.field_text import FIELD_TEXT
from trainer.core.model_source import NOTES

LANGUAGES = {"en": "English", "zh": "简体中文"}

EN = {
    "sidebar.language": "Language",
    "nav.configure": "Configure", "nav.train": "Train (live)", "nav.compare": "Compare",
    "nav.data": "Data", "nav.runs": "Runs", "nav.tryit": "Try it",
    "tryit.title": "Try it: base vs fine-tuned",
    "tryit.no_runs": "No finished run with a saved model and a validation corpus yet. Train one first.",
    "tryit.run": "Fine-tuned run", "tryit.source": "Query", "tryit.source.pick": "A validation query",
    "tryit.source.type": "Type one", "tryit.pick": "Validation query", "tryit.query": "Your query",
    "tryit.searching": "Searching the validation corpus…", "tryit.base": "Base model", "tryit.tuned": "Fine-tuned",
    "tryit.right_passage": "Rank of the right passage, base → fine-tuned:",
    "tryit.random_heads": "The base model ships no sparse or ColBERT head: its sparse and ColBERT scores come from "
    "untrained, randomly initialised heads.",
    "tryit.query_weights": "Sparse weights over the query's own words (darker = heavier; hover a word for its weight):",
    "tryit.seconds": "{s:.2f} s · ranked by {main}", "tryit.relevant": "right passage",
    # modes
    "mode.all.title": "All heads",
    "mode.all.trains": "Trains the encoder and all three heads: dense, sparse and ColBERT.",
    "mode.all.cost": "Costs the most memory and time per step.",
    "mode.all.when": "Pick it for the best hybrid retrieval when the GPU allows.",
    "mode.heads.title": "Sparse + ColBERT heads",
    "mode.heads.trains": "Freezes the encoder; trains only the sparse and ColBERT heads. Dense scores stay as they were.",
    "mode.heads.cost": "Cheapest: no encoder gradients or optimizer state.",
    "mode.heads.when": "Pick it to adapt lexical and multi-vector matching without touching the dense model.",
    "mode.dense.title": "Dense only",
    "mode.dense.trains": "Trains the encoder for dense (single-vector) retrieval only.",
    "mode.dense.cost": "Memory: about the same as All heads with the lean sparse head, far less than with FlagEmbedding's stock head (see Claims vs measured).",
    "mode.dense.when": "Pick it when you serve dense vectors only.",
    "preset": "Preset: {mode} (lr {lr}, batch {batch}, automatic warmup)",
    "precision.auto": "auto (bf16/fp16 AMP on GPU, fp32 on CPU)", "precision.fp32": "fp32",
    "precision.bf16": "bf16 AMP", "precision.fp16": "fp16 AMP",
    # configure
    "configure.title": "Configure a fine-tuning run",
    "configure.model_data": "1. Model and data",
    "configure.model": "Model", "configure.model.default": "Embedded default (all-MiniLM-L6-v2)",
    "configure.model.custom": "Local folder or hub id",
    "configure.model_path": "Model folder or hub id",
    "configure.data": "Data", "configure.data.demo": "Demo data (help centre, in English)",
    "configure.data.path": "A path on this machine", "configure.data.dataset": "A saved dataset",
    "configure.dataset": "Dataset", "configure.no_datasets": "No saved dataset yet: upload a file (JSONL, CSV or "
    "TSV) on the Data page, or mine negatives there; it appears here.",
    "configure.train_path": "Training file (JSONL, CSV or TSV)", "configure.eval_path": "Evaluation folder (BEIR-style, optional)",
    "configure.mode": "2. Which modules to train",
    "configure.hyper": "3. Settings",
    "configure.epochs": "Epochs", "configure.batch": "Batch per device", "configure.group": "Group size",
    "configure.precision": "Precision", "configure.query_len": "Query max tokens",
    "configure.passage_len": "Passage max tokens", "configure.patience": "Early stop: patience (evaluations)",
    "configure.min_epochs": "Early stop: minimum epochs", "configure.lr": "Learning rate",
    "configure.eval_choice": "Validation and test",
    "configure.eval_choice.split": "Hold out from my file (recommended)",
    "configure.eval_choice.folder": "An evaluation folder", "configure.eval_choice.none": "None",
    "configure.lengths_suggested": "Suggested from your data: queries {q} and passages {p} tokens (95 % of them are "
    "at most {qp95} and {pp95} tokens long, capped at the model's maximum).",
    "configure.recipe": "Hard negatives and the M3 recipe",
    "configure.mine": "Hard negatives", "configure.mine.missing": "Mine rows that have none",
    "configure.mine.all": "Mine for every row", "configure.mine.off": "Never mine",
    "configure.self_distill": "Self-distillation (M3 recipe)", "configure.teacher": "Distil from teacher scores",
    "configure.heads_lr_scale": "Heads learning-rate ×",
    "configure.recipe_measured": "Measured on held-out CMRC and SciFact questions (docs/DESIGN-NOTES.md): "
    "self-distillation on helped the dense head on CMRC (MRR@10 +0.29 vs +0.27) and the sparse head on SciFact "
    "(+0.12 vs +0.01); mined negatives matched the files' random ones; heads at 10× the rate gained nothing "
    "consistent.",
    "configure.pairs": "{n} of {total} rows have no negatives: the run mines hard negatives for them before training "
    "(Data page: preview them).",
    "configure.lr_suggested": "Suggested {lr} for {rows} examples and a {params}M-parameter model "
                              "(under 10k examples ≈ 1e-5, ~100k ≈ 5e-6, 1M+ ≈ 2e-6–3e-6; large models 1e-6–5e-6; "
                              "models under 100M parameters ×2 under 10k examples, measured better on held-out data).",
    "configure.warmup_auto": "Automatic warmup", "configure.warmup": "Warmup steps",
    "configure.sparse_head": "Sparse head", "configure.sparse_head.lean": "Lean (batch × vocabulary)",
    "configure.sparse_head.stock": "FlagEmbedding stock (batch × length × vocabulary)",
    "configure.report_to": "Also log to", "configure.report_to.none": "nothing else (the dashboard only)",
    "configure.report_to.tensorboard": "TensorBoard (event files in the run folder's tensorboard/)",
    "configure.report_to.mlflow": "MLflow (local file store in the run folder's mlruns/)",
    "configure.lr_preview": "Learning rate over {steps} steps (warmup {warmup} steps from 1/10 of the target)",
    "configure.no_rows": "Give a training file to preview the schedule.",
    "configure.data_errors": "The training file has {count} invalid rows; the run will not start on them.",
    "configure.skip_bad": "Skip the {bad} invalid rows and train on the {good} valid ones (the count is kept with the run)",
    "configure.invalid": "Not started: {count} (nothing was stored).",
    "count.epoch": "{n} epoch|{n} epochs", "count.step": "{n} step|{n} steps", "count.problem": "{n} problem|{n} problems",
    "count.trial": "{n} trial|{n} trials",
    "train.skipped": "{n} invalid training rows were skipped, as chosen when the run started.",
    "train.resume": "Resume from {checkpoint}",
    "configure.compare_modes": "Compare the three modes",
    "configure.compare_modes.help": "Queues three runs with these data and settings, one per mode (all heads, sparse + "
    "ColBERT heads, dense only); they train one after another, and Compare overlays them.",
    "configure.waiting": "Waiting in the queue, in this order: {runs} (remove one on the Runs page).",
    "configure.start": "Start training", "configure.busy": "Not started: {detail}",
    "configure.buckets": "Length buckets for long passages",
    "configure.buckets_caption": "Sized for a {card:.0f} GiB card, {gpus} GPU(s): {rows} rows in {count} buckets, {steps} "
                                 "optimizer steps per epoch. Each bucket trains at its own batch (up to the batch size "
                                 "{batch}); passages keep their full length.",
    "configure.buckets_error": "Length buckets cannot be planned: {error}",
    "configure.buckets_no_data": "Choose a training file to see its length buckets.",
    "configure.buckets_chart": "Rows and per-device batch per length bucket (tokens)",
    "bucket.tokens": "Tokens",
    "bucket.rows": "Rows",
    "bucket.batch": "Batch per GPU",
    "bucket.estimate": "Estimate (GiB)",
    "bucket.ckpt": "Gradient checkpointing",
    "bucket.steps": "Steps per epoch",
    "bucket.why": "Why",
    "configure.memory": "4. Memory",
    "configure.gpus": "GPUs (torchrun processes)",
    "configure.cross_device": "Share negatives across GPUs (negatives_cross_device)",
    "configure.card": "GPU", "configure.card.detected": "This machine: {name} ({gib} GiB)",
    "configure.card_line": "usable on this card",
    "configure.memory_chart": "Estimated peak per training step and mode ({precision}, batch {batch}, {sparse} sparse head)",
    "configure.max_batch": "{mode}: largest batch {n}",
    "configure.wont_fit": "This configuration will not fit: about {need:.1f} GiB needed (peak plus allocator "
    "headroom), {have:.1f} GiB usable. The largest per-device batch that fits is {n}.",
    "configure.measure": "Measure on this GPU",
    "configure.measure.busy": "A run is training on this GPU; measure when it has ended.",
    "configure.measure.running": "Running a few real training steps…",
    "configure.measure.result": "Measured peak {peak:.2f} GiB (estimate {est:.2f} GiB) on {device}.",
    "configure.measure.oom": "Measured: out of memory at this batch.",
    "configure.measure.error": "The measurement failed: {detail}",
    "memory.weights": "Weights", "memory.gradients": "Gradients", "memory.optimizer": "AdamW state",
    "memory.activations": "Activations", "memory.sparse_head": "Sparse head", "memory.colbert": "ColBERT",
    "memory.workspace": "Workspace",
    "claims.title": "Claims vs measured",
    "claims.none": "No GPU benchmark results in bench/results/ yet.",
    "claims.caption": "Measured by bench/vram_validate.py and bench/sparse_head.py on {device}: BGE-M3 shape, "
    "bf16 AMP unless said, group 8, query 64 / passage 256 tokens, batch 8. Positive numbers mean the claim's "
    "direction (less memory, faster, larger batch).",
    "claims.col.claim": "Claim (reference article)", "claims.col.claimed": "Claimed",
    "claims.col.stock": "Measured vs all heads, stock sparse head", "claims.col.lean": "Measured vs all heads, lean sparse head",
    "claims.dense_memory": "Dense-only uses less memory than all heads",
    "claims.dense_speed": "Dense-only trains faster than all heads",
    "claims.dense_batch": "Dense-only fits larger batches than all heads",
    "claims.amp_memory": "AMP (bf16) uses less memory than fp32 (all heads)",
    # train
    "train.title": "Training", "train.no_runs": "No runs yet: start one on the Configure page.",
    "train.pick": "Run", "train.smoothing": "Loss smoothing",
    "train.stop": "Stop", "train.stopping": "Stopping after the current step; the checkpoint is saved.",
    "train.progress": "Step {step} of {total} · about {eta} left",
    "train.samples_per_s": "Samples/s (median)", "train.peak_gpu": "Peak GPU memory (GiB)",
    "train.peak_rss": "Peak process memory (GiB)", "train.active_tokens": "Sparse active tokens",
    "train.baseline_note": "One panel per head, each on its own scale; the dotted line is the head's step-0 "
                           "(zero-shot) score.",
    "train.random_heads": "This model ships no trained sparse and ColBERT heads: they start from a random projection.",
    "train.log": "Worker log (tail)", "train.log_empty": "(no output yet)",
    "train.finished": "Ended {when}.",
    # charts
    "chart.step": "step", "chart.loss": "Loss", "chart.lr": "Learning rate", "chart.raw": "raw",
    "chart.smoothed": "smoothed", "chart.mrr": "Validation MRR@10 per head",
    "chart.mrr_head": "Validation MRR@10 ({head})", "chart.samples": "Samples/s per step",
    "head.dense": "dense", "head.sparse": "sparse", "head.colbert": "ColBERT", "head.hybrid": "hybrid",
    # statuses
    "status.waiting": "Waiting in queue", "status.queued": "Queued", "status.running": "Running", "status.completed": "Completed",
    "status.stopped": "Stopped", "status.failed": "Failed", "status.interrupted": "Interrupted",
    # compare
    "compare.title": "Compare runs", "compare.pick": "Runs", "compare.head": "Head for the MRR chart",
    "compare.col.run": "Run", "compare.col.mode": "Mode", "compare.col.status": "Status",
    "compare.col.best": "Final MRR@10", "compare.col.head": "{head} MRR@10 (step 0 → final)",
    "compare.col.data": "Data", "compare.col.test": "{head} held-out test (before → after)",
    "compare.verdict.no_ranks": "no per-question ranks to judge its change.",
    "compare.verdict.cost": "Cost: {duration} in all, {memory} GiB peak, {samples} samples/s (median).",
    "compare.verdict.rule": "Runs are compared on their kept model (the last validation), never on a mid-run peak. "
    "“Better” and “won” only when the 95 % interval of the MRR@10 difference (a paired bootstrap over the same "
    "questions) lies wholly above zero; otherwise: no clear difference. Only runs trained on the same data and "
    "scored on the same questions are compared. A stopped or failed run is labelled so.",
    "compare.col.duration": "Duration",
    "compare.col.samples": "Samples/s (median)", "compare.col.memory": "Peak memory (GiB)",
    "compare.note": "Colour = mode; line style = run. Each run is scored on the heads it trains: dense-only runs "
                    "have no sparse, ColBERT or hybrid score.",
    # data
    "data.title": "Check data", "data.source": "Training file",
    "data.source.demo": "Demo", "data.source.upload": "Upload", "data.source.path": "Path on this machine",
    "data.upload": "Training file: JSONL, CSV or TSV", "data.saved_as": "Saved as {path}", "data.path": "Path",
    "data.upload.help": "JSONL: one object a line with query, pos (a list) and optionally neg. CSV/TSV: a header "
    "naming a question column (query, question, anchor) and an answer column (pos, positive, passage, document, "
    "answer): pairs, whose negatives are mined.",
    "data.source.dataset": "A saved dataset", "data.dataset_name": "Dataset name",
    "data.eval.placeholder": "optional: a folder on this machine",
    "data.use": "Use this file for training", "data.use.help": "Opens Configure with this file chosen and 10 % + 10 % of its "
    "questions held out for validation and a test set.",
    "data.use.blocked": "“Use this file for training” is unavailable: {bad} rows are invalid (see the table above), and "
    "a run refuses a file with invalid rows unless told to skip them. Fix them in the file (it is checked again when "
    "it changes), or train on the {good} valid rows:",
    "data.use.blocked_help": "Unavailable while the file has invalid rows: see the note below.",
    "data.use.skip": "Skip the {bad} bad rows and train on the {good} valid ones",
    "data.use.no_rows": "“Use this file for training” needs at least one valid row, and this file has none: see the "
    "problems above.",
    "data.eval.help": "Optional. With your own training file Configure holds questions out of it (the split), so no "
    "folder is needed; check a BEIR-style folder here only if you have one.",
    "data.rows_ok": "Valid rows", "data.rows_bad": "Bad rows", "data.warnings": "Warnings",
    "data.col.line": "Line", "data.col.field": "Field", "data.col.kind": "Kind", "data.col.message": "Problem",
    "data.kind.error": "error", "data.kind.warning": "warning",
    "data.preview": "Preview", "data.distributions": "Distributions",
    "data.hist.neg": "Negatives per row", "data.hist.query": "Query length", "data.hist.passage": "Passage length",
    "data.tokens": "tokens (embedded model's tokenizer)",
    "data.eval": "Evaluation folder", "data.eval_path": "Folder with queries.jsonl, corpus.jsonl, qrels.tsv",
    "data.eval_ok": "{queries} queries with relevant documents over {docs} documents.",
    # runs
    "runs.title": "Runs", "runs.pick": "Run", "runs.open": "Open", "runs.rename": "Name",
    "runs.delete": "Delete…", "runs.confirm": "Delete run “{name}”, its metrics and its checkpoint record?",
    "runs.yes": "Yes, delete", "runs.no": "Cancel",
    "runs.filter.mode": "Mode", "runs.filter.status": "Status", "runs.filter.any": "Any",
    "runs.filter.name": "Name or id contains", "runs.filter.page": "Page (of {n})",
    "runs.filter.none": "No run matches these filters.",
    "runs.export": "Export and reproduce", "runs.export.none": "This run has no saved model (yet).",
    "runs.export.make": "Export model (folder + zip with model card)", "runs.export.download": "Download zip ({mb:.0f} MB)",
    "runs.export.where": "Saved as {path}",
    "runs.export.onnx": "Also an ONNX dense model (sentence-transformers' ONNX backend)",
    "runs.export.running": "Writing the model folder…", "runs.export.failed": "It did not work: {detail}",
    "runs.merge.weight": "Merge with the base model: weight of the fine-tuned model",
    "runs.merge.help": "LM-Cocktail mixes the encoders: weight × fine-tuned + (1 − weight) × base. Lower weights keep "
    "more of the base model's general retrieval, higher ones more of what the run learned.",
    "runs.merge.make": "Merge and export", "runs.merge.running": "Mixing the two models…",
    "runs.merge.heads.averaged": "Weight {weight:g}: sparse and ColBERT heads averaged by the same weight.",
    "runs.merge.heads.kept": "Weight {weight:g}: the base model has no sparse or ColBERT head, so the fine-tuned "
    "heads are kept whole.",
    "runs.merge.heads.none": "Weight {weight:g}: a dense-only run has no heads of its own; only the encoder was mixed.",
    "runs.curve.make": "Score a few weights (slow)",
    "runs.curve.help": "Merges at weights 0, 0.25, 0.5, 0.75 and 1 and scores each on this run's validation set and "
    "on an out-of-domain check shipped with the product (53 English SciFact claims, CC BY 4.0 / ODC-By; left out when "
    "this run's questions are not English): pick the weight that keeps most of both.",
    "runs.curve.running": "Merging and scoring five weights…",
    "runs.curve.title": "Merged model by weight ({metric})", "runs.curve.weight": "weight of the fine-tuned model",
    "runs.curve.validation": "this run's validation set ({n} queries)",
    "runs.curve.general": "out-of-domain check, {language} (SciFact, {n} queries)",
    "runs.curve.rescore": "This curve was scored before each question's rank was kept: score the weights again for the "
    "weight to use.",
    "runs.curve.pick.base": "**Use weight 0: the base model as it was.** On this run's {n} validation questions no "
    "merged weight scores clearly above it (the best, weight {best_w}, {best} against {base}, is within the noise): "
    "the fine-tuning has not yet helped measurably.",
    "runs.curve.pick.best": "**Use weight {w}.** It scores highest on this run's {n} validation questions: {v}, "
    "against {base} for the base model (weight {base_w}), beyond the noise.",
    "runs.curve.pick.near": "**Use weight {w}.** On this run's {n} validation questions it scores {v}, within the "
    "noise of the highest (weight {best_w}: {best}) and clearly above the base model ({base}).",
    "runs.curve.within": "Weights {weights} score within the noise of it there; a lower weight keeps more of the base "
    "model.",
    "runs.curve.general.more": "On the out-of-domain check ({language}, {m} questions) it keeps {g} against {gb} at "
    "weight {best_w}: clearly more, beyond the noise.",
    "runs.curve.general.same": "On the out-of-domain check ({language}, {m} questions) it scores {g} (the base model "
    "{g0}); no weight as good on validation keeps clearly more there.",
    "runs.curve.general.left_out": "The out-of-domain check is in {language} and this run's questions are in {data}: "
    "it would not measure what a merge keeps in your language, so it was left out.",
    "lang.en": "English", "lang.zh": "Chinese", "lang.ja": "Japanese", "lang.ko": "Korean", "lang.ru": "Russian",
    "lang.ar": "Arabic", "lang.latin": "a Latin-script language other than English", "lang.other": "another language",
    "runs.command": "Equivalent FlagEmbedding command (without the dashboard)",
    "runs.command.files": "Needs the training rows this run used: {train}. Differences from the dashboard's run:",
    "runs.command.nodes": "On 2 machines of {gpus} GPU(s) each (more: change --nnodes): run this on every machine with "
    "NODE_RANK=0, 1, … set, MASTER_HOST:29500 the first machine's address and a free port, and the training rows "
    "at the same path on each. The warmup follows the larger number of GPUs.",
    "configure.grad_ckpt": "Gradient checkpointing",
    "configure.zero_stage": "DeepSpeed ZeRO",
    "configure.zero_stage.0": "off (DDP)", "configure.zero_stage.1": "stage 1 (optimizer state)",
    "configure.zero_stage.2": "stage 2 (+ gradients)",
    "configure.command": "Equivalent FlagEmbedding command",
    # held-out test split and hard-negative mining (issue 12)
    "heldout.title": "Held-out test: questions this run never saw",
    "heldout.explain": "{n} questions were set aside before training: never trained on, never used to stop early or "
    "to choose anything. Each score is measured on them before training and after it. MRR@10 is 1 when the right "
    "passage comes first, 1/2 when it comes second, 1/3 third … and 0 when it is not in the top 10, averaged over "
    "the questions.",
    "heldout.col.head": "Head",
    "heldout.metric.mrr@10": "MRR@10", "heldout.metric.recall@10": "Recall@10 (right passage in the top 10)",
    "heldout.metric.ndcg@10": "nDCG@10",
    "heldout.verdict": "On the held-out questions, better: **{better}** · worse: **{worse}** · no clear difference: "
                       "**{unclear}**.",
    "heldout.col.verdict": "MRR@10 change (95 % interval)",
    "verdict.better": "{diff} ({low} … {high}): better", "verdict.worse": "{diff} ({low} … {high}): worse",
    "verdict.unclear": "{diff} ({low} … {high}): no clear difference",
    "verdict.rule": "“Better” or “worse” only when the whole 95 % interval of the MRR@10 change lies on one side of "
                    "zero: a paired bootstrap over the {n} questions (2,000 resamples). Otherwise: no clear difference.",
    "verdict.not_completed": "This run ended **{status}**: its saved model is the one scored here, not a finished run.",
    # one story per run, one noise rule for every headline (app/story.py, trainer.verdict.mark; issue 36)
    "verdict.word.better": "better", "verdict.word.worse": "worse", "verdict.word.unclear": "no clear difference",
    "questions.validation": "{n} validation questions", "questions.test": "{n} held-out test questions",
    "questions.validation.why": "they chose when to stop early and which checkpoint to keep",
    "questions.test.why": "set aside before training; no decision used them",
    "headline.change": "{head} MRR@10 {before} → {after} on the {questions} ({why}): {change}.",
    "headline.change.short": "{head} MRR@10 {before} → {after} on the {questions}: {change}.",
    "headline.other": "On the {questions} the change is {change}.",
    "headline.why_differ": "The held-out and validation figures can differ: the validation questions decided when to "
    "stop and which checkpoint to keep, so they lean towards the kept model, while the held-out questions decided "
    "nothing; and both are small samples. Go by the held-out figure.",
    "headline.cards": "{head} MRR@10 on the {questions}",
    "headline.cards.pending": "{head} MRR@10 on the validation questions",
    "headline.card.before": "Before training", "headline.card.after": "After training", "headline.card.now": "Now",
    "headline.pending": "The change is judged once a second evaluation's per-question ranks are in.",
    "story.change": "MRR@10 change on these questions: {change}.",
    "story.validation_only": "These lines are about the validation questions; the held-out test, which no decision "
    "used, is the figure this page leads with.",
    "train.queue": "Run {k} of {n} of one “Compare the three modes” queue: {runs}.",
    "train.queue.item": "{mode} ({status})",
    "compare.won": "**Which mode won?** {run} **won**: on the {questions} its {head} MRR@10 of {score} is clearly "
    "above {others}.",
    "compare.won.other": "{run} ({head} {score}; the lead: {change})",
    "compare.none": "**Which mode won?** None clearly: on the {questions}, {run} scores highest ({head} MRR@10 "
    "{score}), but its lead over {others} is within the noise.",
    "compare.none.other": "{run} ({head} {score}; the lead: {change})",
    "compare.none.ahead": "It is clearly ahead of {others}.",
    "compare.ahead.other": "{run} ({head} {score})",
    "compare.no_gain": "Against the base model its own change is {change}, so fine-tuning is no clear gain either.",
    "compare.one": "**Which mode won?** Pick at least two runs trained on the same data to answer it.",
    "compare.different_data": "**Which mode won?** These runs cannot be compared: they were not trained on the same "
    "data and evaluated on the same questions ({runs}). Pick runs of one dataset. Each run's own change is below.",
    "compare.no_ranks": "**Which mode won?** Not yet: {runs} has no per-question ranks of its kept model to compare.",
    "compare.main": "Each run is judged by its main score (hybrid where it trains the sparse and ColBERT heads, dense "
    "for Dense only) on its kept model: on the held-out test questions where every run has them, else on the "
    "validation questions.",
    "compare.still": "{run} did not move: {head} MRR@10 {before} → {after}, {changed} of {n} questions changed rank.",
    "compare.still.heads": "With the encoder frozen only the small sparse and ColBERT heads learn, and at learning "
    "rate {lr} (heads ×{scale}) over {steps} steps they barely move. To try: a higher learning rate for the heads "
    "(Configure → “Heads learning-rate ×”, e.g. 10 to 100), more epochs, or the All heads mode.",
    "compare.still.other": "At learning rate {lr} over {steps} steps the model barely changed. To try: a higher "
    "learning rate or more epochs.",
    "compare.still.ceiling": "The base model already ranked the right passage first for {first} of these {n} "
    "questions: there was no room to move, whatever the settings. Harder questions (or more of them) would tell "
    "the modes apart.",
    "tryit.overall": "Over all {questions}: {change}. One question moving up or down says little on its own.",
    "runs.col.change": "Change (main head, base → kept)",
    "runs.change": "{diff} · {word} ({questions})",
    "runs.final.test": "{score} ({head}, held-out test)",
    "level.rank": "Where it stands: with the fine-tuned model the right answer is at median rank {rank} on {head} "
                  "(MRR@10 {mrr}).",
    "level.not_useful": "That is not yet useful: the right answer is rarely near the top, whatever the change.",
    "mine.title": "Hard negatives",
    "mine.explain": "Training learns most from passages that look right but are not: hard negatives. Mining ranks "
    "every passage of the file for each question with the model's dense head, skips the top ranks and any passage "
    "scoring too close to the right one (it may be a second right answer), and picks N at random from the ranks in "
    "the range.",
    "mine.missing": "{n} of {total} rows have no negatives. A run mines them by itself before training; mine here to "
    "see and keep them.",
    "mine.model": "Model (its dense head ranks the candidates)", "mine.negatives": "Negatives per row",
    "mine.range": "Candidate ranks", "mine.range.help": "Ranks counted from 0, as FlagEmbedding's hn_mine: 2-200 skips "
    "the two best (often unlabelled right answers) and looks no further than rank 200.",
    "mine.margin": "False-negative margin", "mine.margin.help": "Drop candidates scoring above (1 − margin) × the right "
    "passage's score.",
    "mine.seed": "Seed", "mine.start": "Mine hard negatives", "mine.stop": "Stop mining",
    "mine.progress": "Mining negatives for {rows} rows · {phase}: {done} of {total}",
    "mine.phase.queries": "encoding the questions", "mine.phase.passages": "encoding the candidate passages",
    "mine.phase.search": "searching, questions", "mine.phase.model": "loading the model",
    "mine.starting": "Starting the mining process…", "mine.loading": "Loading the model to mine {rows} rows…",
    "mine.finishing": "Writing the mined file…",
    "mine.failed": "Mining ended without a result:",
    "mine.done": "Mined negatives for {rows:,} rows from {pool:,} candidate passages in {seconds:.1f} s → `{output}`",
    "mine.short": "{n} rows got fewer negatives than asked ({empty} none): too few candidates below the margin.",
    "mine.preview": "A few questions with their right passage and the negatives mined for them (cosine scores):",
    "mine.col.kind": "Kind", "mine.col.score": "Score", "mine.col.text": "Passage",
    "mine.kind.pos": "✓ right", "mine.kind.neg": "✗ negative",
    "mine.use": "Use the mined file for training", "mine.dataset_name": "{name} + mined negatives",
    "mine.small_pool": "Only {pool} candidate passages, fewer than the rank range's end ({high}): the negatives are "
    "drawn from nearly the whole file, so they are hardly \"hard\". Mining pays with many passages (give a corpus "
    "with `python -m trainer mine --corpus`, or use a bigger file).",
    "heldout.ceiling": "With {n} questions and the base model already at MRR@10 {before} on {head}, this test has "
    "little room to show a gain: read it as a check that nothing got worse.",
    "mine.dropped": "{n} rows got no negative at all and were left out of the file (FlagEmbedding cannot train on "
    "them).",
    # what a run does where the model leaves a choice open (the worker logs the same English text)
    **{f"note.{key}": text for key, text in NOTES.items()},
    # one description per RunConfig field: the Configure page's help and `python -m trainer train --help`
    **{f"field.{k}": v for k, v in FIELD_TEXT["en"].items()},
    # story (Train, Compare, Try it)
    "story.title": "What fine-tuning changed (validation queries, step 0 → step {step})",
    "story.head": "**{head}**: ",
    "story.moved": "search got better for {improved} of {queries} validation queries, worse for {worse}; "
                   "the right answer moved from rank {before:.1f} to {after:.1f} on average.",
    "story.pending": "The per-query story appears after the first validation that follows step 0.",
    "story.mrr": "MRR@10 says how high the right answer ranks: 1.0 means it always comes first, 0.5 about second, "
                 "0 never in the top 10.",
    "story.mrr_formula": "MRR@10 = (1/|Q|) · Σ over queries q of 1/rank(q), where rank(q) is the position of the "
                         "first right passage for q; a query whose right passage is not in the top 10 adds 0.",
    # configure, guided
    "configure.start_here": "**Start here**, top to bottom: 1. model and data → 2. which modules to train → "
                            "3. settings → 4. memory → [5. Start](#start). The defaults train the demo data.",
    "configure.terms": "Dense: one vector per text, compared as a whole. Sparse: a learned weight per word, like a "
                       "keyword search. ColBERT: one vector per token; each query word finds its best match in the "
                       "passage. Hybrid: dense + 0.3 × sparse + ColBERT, the score M3 ranks by.",
    "configure.mode_choose": "Choose", "configure.mode_chosen": "✓ Chosen",
    "configure.mode_flags": "FlagEmbedding flags: {flags}",
    "configure.lr_far": "Learning rate {lr} is far from the suggestion {suggested} for {rows} examples; presets "
                        "follow the article's large datasets.",
    "configure.preset_applied": "Applied “{preset}”: warmup is automatic, {warmup} of {total} steps.",
    "configure.warmup_long": "Warmup {warmup} steps of a {total}-step run: the learning rate only reaches {reach} "
                             "of its target.",
    "configure.card_far": "The card has {usable:.0f} GiB usable, far above these bars.",
    "configure.no_gpu": "No NVIDIA GPU on this machine: training runs on the CPU in fp32 ({cores} cores, "
                        "{ram:.0f} GiB RAM).",
    "configure.cpu_estimate": "Estimated peak memory of this run's worker on the CPU (fp32): {need:.1f} GiB of "
    "{ram:.0f} GiB RAM (model, optimizer, activations and attention scores at the lengths its batches pad to; "
    "fitted to measured runs on a 2-core machine).",
    "configure.memory_short": "This run needs about {need:.1f} GiB of memory on {where}, which has {have:.1f} GiB: it "
    "would run out of memory. Start waits until it fits, or until you accept that risk below.",
    "configure.memory_short.cpu": "this machine's CPU (RAM, fp32 training)",
    "configure.memory_short.none": "Not even batch 1 fits: choose a smaller model, or train on a machine with more "
    "memory.",
    "configure.memory_short.fixes": "What fits (one click sets it):",
    "configure.memory_fix.batch_size": "Batch {value} (about {need:.1f} GiB)",
    "configure.memory_fix.passage_max_len": "Passages of {value} tokens (about {need:.1f} GiB)",
    "configure.memory_fix.mode": "Mode: {value} (about {need:.1f} GiB)",
    "configure.memory_fix.gradient_checkpointing": "Gradient checkpointing on (about {need:.1f} GiB)",
    "configure.memory_anyway": "Start anyway: I accept that it may run out of memory",
    "configure.memory_anyway.help": "The estimate can be off; a run that runs out of memory is killed and ends "
    "failed (what is already stored stays). On the command line: --ignore-memory-estimate.",
    "list.sep": ", ",
    "configure.split_refused": "The held-out split cannot be made from this file, so the run cannot start:",
    "configure.model_refused": "Not startable yet: this model cannot be trained here (see Model and data above for "
    "why and what to do).",
    "configure.model.embedded": "{name} (embedded in the PyPI package {package})",
    "configure.plan_gpu": "Plan for a GPU: estimated GPU memory per mode",
    "configure.start_section": "5. Start",
    "configure.summary": "{mode} · {epochs} · {steps} · batch {batch} · learning rate {lr}",
    # train states
    "train.starting": "Starting: loading the model and scoring the base model on the validation queries…",
    "train.progress_first": "Step {step} of {total}",
    "train.progress_ended": "{status} at step {step} of {total}.",
    "train.waiting_loss": "The loss and learning-rate charts start with the first training step.",
    "train.waiting_mrr": "The validation chart starts when the base model has been scored (step 0).",
    "train.no_eval": "This run has no validation folder: no MRR@10.",
    # compare verdict
    "compare.verdict": "Verdict",
    "compare.why.all.dense": "Why: All heads trains the encoder too, so the dense score moves with it.",
    "compare.why.all.heads": "Why: All heads trains the encoder together with the sparse and ColBERT heads.",
    "compare.why.heads.dense": "Why: this mode freezes the encoder, so its dense score is the base model's.",
    "compare.why.heads.heads": "Why: the sparse and ColBERT heads learn on a frozen encoder, the cheapest way to adapt them.",
    "compare.why.dense.dense": "Why: Dense only spends every step on the dense score alone.",
    # your own data (issue 27)
    "configure.train_rows": "It trains on {rows} of the file's {total} rows: the rest are held out (validation and "
    "test questions, and any passage they share with training rows).",
    "configure.time.cpu": "this machine's CPU ({cores} cores)",
    "configure.time.none": "No estimate of the run's time yet: no run of this model and mode has been measured on "
    "{device}. A speed check trains a few real steps with these settings (up to about {seconds} s).",
    "configure.time.measure": "Measure the speed (up to ~{seconds} s)",
    "configure.time.slowed": "Other work shared the machine while that run trained (its clock ran {slowed}× slower "
    "than its compute): the estimate is its compute speed, for this machine with nothing else running; while other "
    "work runs, expect up to {slowed}× longer.",
    "configure.time.unsound": "No advice on shortening it: the speed it rests on was measured while other work "
    "shared the machine. Measure the speed again when nothing else runs.",
    "configure.time.queue": "“Compare the three modes” would take about {total} for the three runs.",
    "configure.time.fit_cut": "Passages cut to {length} tokens lose {dropped} of the data's passage text (half its "
    "passages are longer than {typical} tokens).",
    "configure.time.measuring": "Training a few real steps with these settings…",
    "configure.time.estimate": "Estimated time on {device}: about **{time}** for {steps} steps ({step_s} s each), "
    "{evals} validations ({eval_s} s each) and {startup} to start; scaled from run {source}. Early stopping can end "
    "it sooner.",
    "configure.time.long": "That is long. Shorter passages make every step cheaper:",
    "configure.time.budget": "Time you have (minutes)",
    "configure.time.budget.help": "The longest passage length whose estimate fits this time is offered next to it.",
    "configure.time.fit": "Use passages of {length} tokens (fits {budget} min)",
    "configure.time.no_fit": "Even 64-token passages do not fit {budget} minutes: fewer epochs, a smaller batch or a "
    "GPU would.",
    "configure.presets_note": "The presets are the BGE-M3 article's (568M parameters, large data sets): their "
    "learning rates suit that model; for a small model or little data the suggestion below is usually higher.",
    "configure.min_epochs_long": "With {epochs} early stopping never acts: it waits at least {min}.",
    "dataset.origin.upload": "uploaded", "dataset.origin.mined": "mined", "dataset.origin.path": "a path",
    "dataset.demo": "demo", "dataset.eval.split": "held-out split", "dataset.eval.demo": "demo validation",
    "dataset.eval.none": "no evaluation", "dataset.eval.folder": "own folder",
    "dataset.unknown_high": "{model} reads {share} of this data's tokens as unknown ([UNK]): it cannot read much of "
    "this text (a script its vocabulary lacks), so its scores and mined negatives mean little and fine-tuning cannot "
    "fix that. Use a model that reads the language, e.g. BAAI/bge-m3 (Configure → Model → custom).",
    "dataset.unknown_low": "{model} reads {share} of this data's tokens as unknown ([UNK]).",
    # try it
    "tryit.sorted": "Queries whose right passage moved most within the top 10 come first, up or down alike ({head} "
                    "rank, step 0 → last validation): ▲ moved up, ▼ moved down, = unchanged.",
    "tryit.heaviest": "Heaviest words:", "tryit.score": "{head} score",
    "tryit.typed_change": "For your query, {same} of the top {k} passages are the same for both models ({moved} of "
    "them in another place); {first} Marks on the right: where the base model had each passage.",
    "tryit.move.new": "new in the top {k}", "tryit.move.from": "{arrow} (base: #{before})",
    "tryit.passage_legend": "Shaded words: the sparse head's weight on each word of the passage (darker = heavier; "
    "hover for the value): where the sparse score comes from.",
    "tryit.first_same": "the first result did not change.", "tryit.first_changed": "the first result changed.",
    "tryit.no_weights": "No word of this query has a sparse weight: the model's tokenizer reads its characters as "
                        "unknown ([UNK]), or the head weighs them 0.",
    # data
    "data.file_problem": "{file}: {message}", "data.count": "count",
    "data.sampled": "From a sample of {sample} of the {rows} valid rows, read evenly from the whole file; the counts "
                    "and the negatives histogram are over every row.",
    "scan.progress": "Checking the training file: {done:,.0f} of {size:,.0f} MiB, {rows} valid rows, {problems} "
                     "problems so far",
    "scan.failed": "The training file could not be checked: {error}",
    "scan.again": "Check the file again",
    "scan.more": "… and {n} more problems not listed",
    "configure.scanning": "Start is available once the training file is checked (above).",
    "configure.buckets_sampled": "Planned over a sample of {sample} of the {rows} rows (read evenly from the whole "
                                 "file); rows and steps below are scaled to the whole file. The run plans every row.",
    # the settings search (pages/sweep.py, trainer/sweep.py)
    "nav.sweep": "Find settings", "status.pruned": "Pruned",
    "configure.sweep": "Find the best settings",
    "configure.sweep.help": "Search the mode, learning rate and epochs for these data and settings: trials on "
                            "the validation set, the winner tested once (the Find settings page).",
    "sweep.title": "Find the best settings",
    "sweep.intro": "Tries several settings on your data and keeps the best: the mode, the learning rate (from "
                   "÷{span} to ×{span} around Configure's) and the number of epochs. Each try (a trial) is a normal "
                   "run, trained one at a time and scored on the validation questions: MRR@10 of the head the mode "
                   "is judged by (hybrid with the sparse and ColBERT heads, dense for dense only). A trial that falls "
                   "behind the earlier ones is stopped early (pruned). Only the winner is tested on the held-out "
                   "questions, once, after the search: the choice never looks at them, so that test stays honest.",
    "sweep.new": "New search", "sweep.pick": "Search",
    "sweep.no_base": "A search starts from Configure's settings (data, model, batch, lengths): set them up there "
                     "and press “Find the best settings”.",
    "sweep.to_configure": "Open Configure",
    "sweep.base": "The trials share Configure's settings (data {data}, model {model}, batch {batch}, lengths); "
                  "each tries its own mode, learning rate and epochs.",
    "sweep.modes_placeholder": "Choose one or more", "sweep.modes_help": "Each trial trains one of these modes; "
    "with several, the search also picks the mode.",
    "sweep.trials_help": "The search ends after this many trials, or when the time budget is spent.",
    "sweep.budget_help": "Training time of all trials together; a trial still training when it is spent stops and "
                         "counts with its last validation.",
    "sweep.pruner_help": "Median rule: from its second validation on, a trial below the median of the earlier "
                         "trials at the same validation stops. Successive halving: only the better part of the "
                         "trials goes on at each round. Never: every trial trains to its end.",
    "sweep.lr_range": "Learning rates tried: {low} to {high} (log scale), around Configure's {lr}.",
    "sweep.untrained": "{mode}: untrained", "sweep.winner_mark": "the winner",
    "sweep.chart_note": "Each point is a trial's latest validation MRR@10 (a finished trial's at its end, a pruned one's "
                        "at its stop); the dotted "
                        "lines are each mode's score before training. Modes are judged on their own head, and "
                        "hybrid starts higher than dense.",
    "sweep.col.before": "Before training", "sweep.rerun": "Stopped (runs again)",
    "sweep.epochs_help": "Each trial trains a whole number of epochs from this range (the search picks it).",
    "sweep.too_few": "With {n} of {mode} completed, the search cannot yet say where the best learning rates lie.",
    "sweep.untested_stopped": "The winner is tested on the held-out questions when the search ends: it was stopped "
                              "before its end.",
    "sweep.test_line": "On the held-out questions, which no trial saw, its {head} MRR@10 went {before} → {after}: "
                       "{words}. Trust this held-out change, not the validation gain above: the winner was chosen "
                       "for its validation score, which flatters it.",
    "configure.lr_from_sweep": "This learning rate is the settings search's winner (Find settings).",
    "sweep.modes": "Modes to try", "sweep.trials": "Trials (at most)",
    "sweep.budget": "Time budget (minutes of training)", "sweep.pruner": "Stop trials that fall behind",
    "sweep.pruner.median": "Median rule", "sweep.pruner.halving": "Successive halving", "sweep.pruner.none": "Never",
    "sweep.max_steps": "Each trial trains {steps} (max steps, set on Configure): the epochs are not searched.",
    "sweep.epochs": "Epochs to try",
    "sweep.needs_validation": "A search judges its trials on a validation set: choose the held-out split (or an "
                              "evaluation folder) on Configure.",
    "sweep.start": "Start the search",
    "sweep.status": "**{state}**: {done} of {total} trials ended · {spent} of {budget} of training time spent.",
    "sweep.running": "Running", "sweep.done": "Finished", "sweep.paused": "Stopped before its end",
    "sweep.stop": "Stop the search", "sweep.resume": "Go on with the search",
    "sweep.pruned": "pruned", "sweep.suggested_line": "suggested {lr}",
    "sweep.x": "learning rate (log scale)", "sweep.y": "validation MRR@10 (the mode's main head)",
    "sweep.col.trial": "Trial", "sweep.col.lr": "Learning rate", "sweep.col.epochs": "Epochs",
    "sweep.col.status": "Status", "sweep.col.score": "Validation MRR@10",
    "sweep.winner": "The winner",
    "sweep.winner_line": "Trial #{n}: **{mode}**, learning rate **{lr}**, {epochs}: validation MRR@10 ({head}) "
                         "{before} before training → **{score}**, the best of the completed trials (a tie goes to "
                         "the shorter run).",
    "sweep.suggestion_within": "The suggested learning rate ({lr}) was **within** the best range found ({range}).",
    "sweep.suggestion_outside": "The suggested learning rate ({lr}) was **outside** the best range found ({range}).",
    "sweep.range_rule": "The best range: the learning rates of the trials ({trials}) whose validation score the "
                        "winner's does not beat by more than its noise (a paired bootstrap over the validation "
                        "questions, 95 % interval). With few validation questions it is wide; with few trials, narrow.",
    "sweep.untested": "The winner has no held-out test score: its evaluation data has no test split, or the test "
                      "has not run yet.",
    "sweep.outcome.completed": "Completed", "sweep.outcome.failed": "Failed",
    "sweep.outcome.budget": "Stopped: the time budget was spent (scored at its last validation)",
    "sweep.outcome.pruned": "Pruned: behind the other trials at a validation",
    "sweep.outcome.running": "Training", "sweep.outcome.waiting": "Waiting in the queue",
    "sweep.outcome.starting": "Waiting its turn",
    "sweep.outcome.not_started": "Not started: the search was stopped first",
    "sweep.outcome.rerun_pending": "Stopped with the search: runs again, whole, when the search goes on",
    "sweep.outcome.reran": "Stopped with the search: ran again as #{n}",
    "sweep.col.again": "#{n} (#{of} again)",
    "sweep.budget_short": "The time budget ({budget} min) fits about {fits} of the {trials} trials asked: a trial takes "
    "about {per} here (estimated from run {source}), so all of them need about {need} min. Raise the budget, or ask "
    "for fewer trials.",
    "sweep.budget_fits": "A trial takes about {per} here (estimated from run {source}): the {trials} trials need about "
    "{need} min of the {budget} min budget (pruning ends some sooner).",
    "sweep.budget_unknown": "No run of this model and mode has been measured on this machine yet, so how many trials "
    "the budget fits is not known: the first trial measures it.",
    "sweep.length_steps": "the max steps set on Configure",
    "sweep.suggested.won": "**The suggested settings won**: trial #{n} ({mode}, learning rate {lr}, {length}) scored "
    "{score} on validation, {margin} above the next best (#{rival}, {rival_score}): {noise}.",
    "sweep.suggested.lost": "**The suggested settings did not win**: trial #{n} ({mode}, learning rate {lr}, {length}) "
    "scored {score} on validation, the winner #{rival} {rival_score}, {margin} higher: {noise}.",
    "sweep.suggested.alone": "**The suggested settings won** (trial #{n}: {mode}, learning rate {lr}, {length}); no "
    "other trial finished to compare it with.",
    "sweep.suggested.unscored": "The suggested settings (trial #{n}: {mode}, learning rate {lr}, {length}) have no "
    "final score to compare: {outcome}.",
    "sweep.noise.clear": "beyond the noise (a paired bootstrap over {q} validation questions)",
    "sweep.noise.won_unclear": "within the noise over {q} validation questions, so the lead is not clear: the other "
    "settings may be as good",
    "sweep.noise.lost_unclear": "within the noise over {q} validation questions, so the suggested settings are as good "
    "as far as these questions can tell",
    "sweep.noise.unknown": "whether that is beyond the noise cannot be said (no per-question ranks for both)",
    "sweep.use": "Train with these settings",
    "sweep.use_help": "Copies the winner's mode, learning rate and epochs into Configure; choose the data there "
                      "(all of it, for instance). The winner's own model is run “{run}”: export it from Runs.",
    "sweep.export": "Open Runs (export)",
    "path.refused": "This path cannot be used here: {why}",
    "scan.waiting": "{n} other files are being scanned on this server; this one starts when one of them ends.",
    "mine.busy": "Mining cannot start now: {detail}",
    "data.remove": "Remove this dataset",
    "data.remove.help": "Forgets the name; an uploaded or mined file is deleted from the server too (a file of "
                        "your own, given by its path, is left where it is). Runs trained on it keep their results.",
}


ZH = {
    "sidebar.language": "语言",
    "nav.configure": "配置", "nav.train": "训练（实时）", "nav.compare": "对比", "nav.data": "数据", "nav.runs": "运行记录",
    "nav.tryit": "试一试",
    "tryit.title": "试一试：基础模型 vs 微调后",
    "tryit.no_runs": "还没有保存了模型且带验证集的已完成运行。请先训练一个。",
    "tryit.run": "微调运行", "tryit.source": "查询", "tryit.source.pick": "选一个验证查询",
    "tryit.source.type": "自己输入", "tryit.pick": "验证查询", "tryit.query": "你的查询",
    "tryit.searching": "正在检索验证语料……", "tryit.base": "基础模型", "tryit.tuned": "微调后",
    "tryit.right_passage": "正确段落的排名（基础 → 微调后）：",
    "tryit.random_heads": "基础模型没有自带稀疏头和 ColBERT 头：其稀疏与 ColBERT 分数来自未训练、随机初始化的头。",
    "tryit.query_weights": "查询原文上的稀疏权重（颜色越深权重越大；鼠标悬停可看数值）：",
    "tryit.seconds": "{s:.2f} 秒 · 按{main}排序", "tryit.relevant": "正确段落",
    "mode.all.title": "全部模块",
    "mode.all.trains": "训练编码器和全部三个头：稠密、稀疏和 ColBERT。",
    "mode.all.cost": "每步显存和时间开销最大。",
    "mode.all.when": "显卡允许时选它，混合检索效果最好。",
    "mode.heads.title": "稀疏 + ColBERT 头",
    "mode.heads.trains": "冻结编码器，只训练稀疏头和 ColBERT 头；稠密分数保持不变。",
    "mode.heads.cost": "最省：没有编码器的梯度和优化器状态。",
    "mode.heads.when": "想调整词匹配和多向量匹配、又不动稠密模型时选它。",
    "mode.dense.title": "仅稠密",
    "mode.dense.trains": "只为稠密（单向量）检索训练编码器。",
    "mode.dense.cost": "显存：与使用精简稀疏头的全部模块相当，比 FlagEmbedding 原版稀疏头少得多（见“宣称 vs 实测”）。",
    "mode.dense.when": "只使用稠密向量检索时选它。",
    "preset": "预设：{mode}（学习率 {lr}，批次 {batch}，自动预热）",
    "precision.auto": "自动（GPU 上 bf16/fp16 混合精度，CPU 上 fp32）", "precision.fp32": "fp32",
    "precision.bf16": "bf16 混合精度", "precision.fp16": "fp16 混合精度",
    "configure.title": "配置微调任务",
    "configure.model_data": "1. 模型与数据",
    "configure.model": "模型", "configure.model.default": "内置默认模型（all-MiniLM-L6-v2）",
    "configure.model.custom": "本地目录或 Hub 模型名",
    "configure.model_path": "模型目录或 Hub 模型名",
    "configure.data": "数据", "configure.data.demo": "演示数据（帮助中心，英文）",
    "configure.data.path": "本机路径", "configure.data.dataset": "已保存的数据集",
    "configure.dataset": "数据集", "configure.no_datasets": "还没有保存的数据集：请在“数据”页上传文件（JSONL、CSV 或 TSV）"
    "或在那里挖掘负例，之后它会出现在这里。",
    "configure.train_path": "训练文件（JSONL、CSV 或 TSV）", "configure.eval_path": "评测目录（BEIR 格式，可选）",
    "configure.mode": "2. 训练哪些模块",
    "configure.hyper": "3. 训练设置",
    "configure.epochs": "轮数", "configure.batch": "每卡批次", "configure.group": "组大小",
    "configure.precision": "精度", "configure.query_len": "查询最大 token 数",
    "configure.passage_len": "段落最大 token 数", "configure.patience": "早停：耐心（评测次数）",
    "configure.min_epochs": "早停：最少轮数", "configure.lr": "学习率",
    "configure.eval_choice": "验证与测试",
    "configure.eval_choice.split": "从我的文件中留出（推荐）",
    "configure.eval_choice.folder": "评估文件夹", "configure.eval_choice.none": "不评估",
    "configure.lengths_suggested": "根据你的数据建议：查询 {q}、段落 {p} 个 token（95% 的查询与段落分别不超过 {qp95} 与 {pp95} "
    "个 token，且不超过模型上限）。",
    "configure.recipe": "难负例与 M3 训练方法",
    "configure.mine": "难负例", "configure.mine.missing": "为没有负例的行挖掘",
    "configure.mine.all": "为每一行挖掘", "configure.mine.off": "不挖掘",
    "configure.self_distill": "自蒸馏（M3 训练方法）", "configure.teacher": "用教师分数蒸馏",
    "configure.heads_lr_scale": "检索头学习率倍数",
    "configure.recipe_measured": "在留出的 CMRC 与 SciFact 问题上测得（docs/DESIGN-NOTES.md）：开启自蒸馏使 CMRC 的稠密头更好"
    "（MRR@10 +0.29 对 +0.27），SciFact 的稀疏头更好（+0.12 对 +0.01）；挖掘的负例与文件自带的随机负例效果相当；检索头用 10 倍"
    "学习率没有稳定收益。",
    "configure.pairs": "{total} 行中有 {n} 行没有负例：训练前会为它们挖掘难负例（可在“数据”页预览）。",
    "configure.lr_suggested": "建议 {lr}：{rows} 条样本，模型 {params}M 参数"
                              "（少于 1 万条约 1e-5，约 10 万条约 5e-6，100 万条以上 2e-6–3e-6；大模型 1e-6–5e-6；"
                              "1 亿参数以下的模型在少于 1 万条时 ×2，在留出数据上测得更好）。",
    "configure.warmup_auto": "自动预热", "configure.warmup": "预热步数",
    "configure.sparse_head": "稀疏头实现", "configure.sparse_head.lean": "精简版（批次 × 词表）",
    "configure.sparse_head.stock": "FlagEmbedding 原版（批次 × 长度 × 词表）",
    "configure.report_to": "同时记录到", "configure.report_to.none": "不另外记录（仅仪表盘）",
    "configure.report_to.tensorboard": "TensorBoard（事件文件在运行目录的 tensorboard/ 中）",
    "configure.report_to.mlflow": "MLflow（本地文件存储，在运行目录的 mlruns/ 中）",
    "configure.lr_preview": "共 {steps} 步的学习率（从目标值的 1/10 预热 {warmup} 步）",
    "configure.no_rows": "提供训练文件后可预览学习率曲线。",
    "configure.data_errors": "训练文件有 {count} 行无效；不会在这些数据上开始训练。",
    "configure.skip_bad": "跳过 {bad} 行无效数据，仅用 {good} 行有效数据训练（跳过数会随运行记录）",
    "configure.invalid": "未启动：{count}（未保存任何内容）。",
    "count.epoch": "{n} 轮|{n} 轮", "count.step": "{n} 步|{n} 步", "count.problem": "{n} 个问题|{n} 个问题",
    "count.trial": "{n} 次试验|{n} 次试验",
    "train.skipped": "按启动时的选择，跳过了 {n} 行无效训练数据。",
    "train.resume": "从 {checkpoint} 继续训练",
    "configure.compare_modes": "比较三种模式",
    "configure.compare_modes.help": "用相同的数据和设置排队三个运行，每种模式一个（全部头、稀疏 + ColBERT 头、仅稠密）；"
    "它们依次训练，在“比较”页叠加显示。",
    "configure.waiting": "队列中等待（按顺序）：{runs}（可在“运行记录”页移除）。",
    "configure.start": "开始训练", "configure.busy": "未启动：{detail}",
    "configure.buckets": "长文本长度分桶",
    "configure.buckets_caption": "按 {card:.0f} GiB 显存、{gpus} 张 GPU 估算：{rows} 行分为 {count} 个桶，每轮 {steps} "
                                 "个优化步。每个桶用自己的批次（不超过批次大小 {batch}）；段落保留完整长度。",
    "configure.buckets_error": "无法规划长度分桶：{error}",
    "configure.buckets_no_data": "选择训练文件后可查看其长度分桶。",
    "configure.buckets_chart": "各长度桶（token）的行数与每卡批次",
    "bucket.tokens": "Token 数",
    "bucket.rows": "行数",
    "bucket.batch": "每卡批次",
    "bucket.estimate": "估计（GiB）",
    "bucket.ckpt": "梯度检查点",
    "bucket.steps": "每轮步数",
    "bucket.why": "原因",
    "configure.memory": "4. 内存与显存",
    "configure.gpus": "GPU 数量（torchrun 进程数）",
    "configure.cross_device": "跨 GPU 共享负例（negatives_cross_device）",
    "configure.card": "GPU", "configure.card.detected": "本机：{name}（{gib} GiB）",
    "configure.card_line": "此卡可用显存",
    "configure.memory_chart": "各模式每个训练步的显存峰值估计（{precision}，批次 {batch}，{sparse} 稀疏头）",
    "configure.max_batch": "{mode}：最大批次 {n}",
    "configure.wont_fit": "此配置放不下：约需 {need:.1f} GiB（峰值加分配器余量），可用 {have:.1f} GiB。"
    "可放下的最大每卡批次为 {n}。",
    "configure.measure": "在本机 GPU 上实测",
    "configure.measure.busy": "有任务正在此 GPU 上训练，请在结束后再实测。",
    "configure.measure.running": "正在运行几个真实训练步……",
    "configure.measure.result": "实测峰值 {peak:.2f} GiB（估计 {est:.2f} GiB），设备 {device}。",
    "configure.measure.oom": "实测：此批次显存不足。",
    "configure.measure.error": "实测失败：{detail}",
    "memory.weights": "权重", "memory.gradients": "梯度", "memory.optimizer": "AdamW 状态",
    "memory.activations": "激活", "memory.sparse_head": "稀疏头", "memory.colbert": "ColBERT",
    "memory.workspace": "工作区",
    "claims.title": "宣称 vs 实测",
    "claims.none": "bench/results/ 中还没有 GPU 基准结果。",
    "claims.caption": "由 bench/vram_validate.py 与 bench/sparse_head.py 在 {device} 上测得：BGE-M3 结构，"
    "默认 bf16 AMP，组大小 8，查询 64 / 段落 256 token，批次 8。正数表示与宣称方向一致（更省显存、更快、批次更大）。",
    "claims.col.claim": "宣称（参考文章）", "claims.col.claimed": "宣称值",
    "claims.col.stock": "实测：对比全部模块（原版稀疏头）", "claims.col.lean": "实测：对比全部模块（精简稀疏头）",
    "claims.dense_memory": "仅稠密比全部模块省显存",
    "claims.dense_speed": "仅稠密比全部模块训练更快",
    "claims.dense_batch": "仅稠密比全部模块可用更大批次",
    "claims.amp_memory": "AMP（bf16）比 fp32 省显存（全部模块）",
    "train.title": "训练", "train.no_runs": "还没有运行记录：请在配置页开始一次训练。",
    "train.pick": "运行", "train.smoothing": "损失平滑",
    "train.stop": "停止", "train.stopping": "将在当前步结束后停止，并保存检查点。",
    "train.progress": "第 {step} / {total} 步 · 预计还需 {eta}",
    "train.samples_per_s": "样本/秒（中位数）", "train.peak_gpu": "GPU 显存峰值（GiB）",
    "train.peak_rss": "进程内存峰值（GiB）", "train.active_tokens": "稀疏激活 token 数",
    "train.baseline_note": "每个头一个小图，各用自己的纵轴；虚线是该头第 0 步（零样本）的分数。",
    "train.random_heads": "该模型没有自带训练好的稀疏头和 ColBERT 头：它们从随机投影开始。",
    "train.log": "训练进程日志（末尾）", "train.log_empty": "（暂无输出）",
    "train.finished": "结束于 {when}。",
    "chart.step": "步", "chart.loss": "损失", "chart.lr": "学习率", "chart.raw": "原始",
    "chart.smoothed": "平滑", "chart.mrr": "各个头的验证 MRR@10",
    "chart.mrr_head": "验证 MRR@10（{head}）", "chart.samples": "每步样本/秒",
    "head.dense": "稠密", "head.sparse": "稀疏", "head.colbert": "ColBERT", "head.hybrid": "混合",
    "status.waiting": "队列中等待", "status.queued": "排队中", "status.running": "运行中", "status.completed": "已完成",
    "status.stopped": "已停止", "status.failed": "失败", "status.interrupted": "已中断",
    "compare.title": "对比运行", "compare.pick": "运行", "compare.head": "MRR 图使用的头",
    "compare.col.run": "运行", "compare.col.mode": "模式", "compare.col.status": "状态",
    "compare.col.best": "最终 MRR@10", "compare.col.head": "{head} MRR@10（第 0 步 → 最终）",
    "compare.col.data": "数据", "compare.col.test": "{head} 留出测试（训练前 → 训练后）",
    "compare.verdict.no_ranks": "没有逐问题名次，无法判断其变化。",
    "compare.verdict.cost": "代价：总用时 {duration}，峰值 {memory} GiB，{samples} 样本/秒（中位数）。",
    "compare.verdict.rule": "按各运行保留的模型（最后一次验证）比较，从不按训练中途的峰值。只有当 MRR@10 差值的 95% 区间"
    "（对相同问题做配对自助法）整体高于零时才说“变好”或“胜出”；否则为无明显差别。只比较用相同数据训练、在相同问题上"
    "评分的运行。已停止或失败的运行会标明。",
    "compare.col.duration": "总用时",
    "compare.col.samples": "样本/秒（中位数）", "compare.col.memory": "内存峰值（GiB）",
    "compare.note": "颜色表示模式，线型表示运行。每个运行只在它训练的头上评分：仅稠密运行没有稀疏、ColBERT 和混合分数。",
    "data.title": "检查数据", "data.source": "训练文件",
    "data.source.demo": "演示", "data.source.upload": "上传", "data.source.path": "本机路径",
    "data.upload": "训练文件：JSONL、CSV 或 TSV", "data.saved_as": "已保存为 {path}", "data.path": "路径",
    "data.upload.help": "JSONL：每行一个对象，含 query、pos（列表），可选 neg。CSV/TSV：表头需有问题列（query、question、"
    "anchor）和答案列（pos、positive、passage、document、answer）：即问答对，负例会自动挖掘。",
    "data.source.dataset": "已保存的数据集", "data.dataset_name": "数据集名称",
    "data.eval.placeholder": "可选：本机上的一个目录",
    "data.use": "用此文件训练", "data.use.help": "打开“配置”页并选中此文件，从中各留出 10% 的问题作验证集和测试集。",
    "data.use.blocked": "“用此文件训练”暂不可用：有 {bad} 行无效（见上表），而训练会拒绝含无效行的文件，除非选择跳过它们。"
    "请在文件中修正（文件改动后会重新检查），或只用 {good} 行有效数据训练：",
    "data.use.blocked_help": "文件含无效行时不可用：见下方说明。",
    "data.use.skip": "跳过 {bad} 行无效数据，用 {good} 行有效数据训练",
    "data.use.no_rows": "“用此文件训练”至少需要一行有效数据，而此文件一行也没有：见上方列出的问题。",
    "data.eval.help": "可选。使用你自己的训练文件时，“配置”页会从中留出问题（划分），无需目录；只有当你已有 BEIR 格式目录时才在此检查。",
    "data.rows_ok": "有效行", "data.rows_bad": "无效行", "data.warnings": "警告",
    "data.col.line": "行", "data.col.field": "字段", "data.col.kind": "类型", "data.col.message": "问题",
    "data.kind.error": "错误", "data.kind.warning": "警告",
    "data.preview": "预览", "data.distributions": "分布",
    "data.hist.neg": "每行负例数", "data.hist.query": "查询长度", "data.hist.passage": "段落长度",
    "data.tokens": "token 数（内置模型的分词器）",
    "data.eval": "评测目录", "data.eval_path": "包含 queries.jsonl、corpus.jsonl、qrels.tsv 的目录",
    "data.eval_ok": "{queries} 个有相关文档的查询，共 {docs} 篇文档。",
    "runs.title": "运行记录", "runs.pick": "运行", "runs.open": "打开", "runs.rename": "名称",
    "runs.delete": "删除…", "runs.confirm": "删除运行“{name}”及其全部指标记录？",
    "runs.yes": "确认删除", "runs.no": "取消",
    "runs.filter.mode": "模式", "runs.filter.status": "状态", "runs.filter.any": "全部",
    "runs.filter.name": "名称或 ID 包含", "runs.filter.page": "页码（共 {n} 页）",
    "runs.filter.none": "没有符合这些筛选条件的运行。",
    "runs.export": "导出与复现", "runs.export.none": "此运行（尚）无保存的模型。",
    "runs.export.make": "导出模型（目录 + 含模型卡的 zip）", "runs.export.download": "下载 zip（{mb:.0f} MB）",
    "runs.export.where": "已保存为 {path}",
    "runs.export.onnx": "同时导出 ONNX 稠密模型（sentence-transformers 的 ONNX 后端）",
    "runs.export.running": "正在写入模型目录…", "runs.export.failed": "未成功：{detail}",
    "runs.merge.weight": "与基础模型融合：微调模型的权重",
    "runs.merge.help": "LM-Cocktail 融合编码器：权重 × 微调模型 + (1 − 权重) × 基础模型。权重越低，越多保留基础模型的"
    "通用检索能力；越高，越多保留本次训练所学。",
    "runs.merge.make": "融合并导出", "runs.merge.running": "正在融合两个模型…",
    "runs.merge.heads.averaged": "权重 {weight:g}：稀疏头与 ColBERT 头按同一权重平均。",
    "runs.merge.heads.kept": "权重 {weight:g}：基础模型没有稀疏头和 ColBERT 头，保留微调后的头不变。",
    "runs.merge.heads.none": "权重 {weight:g}：仅稠密训练的运行没有自己的头，只融合了编码器。",
    "runs.curve.make": "评估几个权重（较慢）",
    "runs.curve.help": "以权重 0、0.25、0.5、0.75 和 1 融合，并分别在本运行的验证集和产品自带的领域外检查集"
    "（53 条英文 SciFact 论断，CC BY 4.0 / ODC-By；本运行的问题不是英文时不做此检查）上评分：选两者都保留得最多的权重。",
    "runs.curve.running": "正在融合并评估五个权重…",
    "runs.curve.title": "按权重的融合模型（{metric}）", "runs.curve.weight": "微调模型的权重",
    "runs.curve.validation": "本运行的验证集（{n} 个查询）",
    "runs.curve.general": "领域外检查，{language}（SciFact，{n} 个查询）",
    "runs.curve.rescore": "这条曲线是在记录逐题名次之前评估的：请重新评估这几个权重，以得到该用的权重。",
    "runs.curve.pick.base": "**使用权重 0：保持基础模型原样。** 在本运行的 {n} 个验证问题上，没有哪个融合权重明显高于它"
    "（最好的权重 {best_w} 为 {best}，基础模型为 {base}，仍在噪声范围内）：微调尚未带来可测的提升。",
    "runs.curve.pick.best": "**使用权重 {w}。** 它在本运行的 {n} 个验证问题上得分最高：{v}，基础模型（权重 {base_w}）为 "
    "{base}，超出噪声。",
    "runs.curve.pick.near": "**使用权重 {w}。** 它在本运行的 {n} 个验证问题上得分 {v}，与最高者（权重 {best_w}：{best}）"
    "相差在噪声范围内，且明显高于基础模型（{base}）。",
    "runs.curve.within": "权重 {weights} 在验证集上与它相差在噪声范围内；权重越低，保留的基础模型越多。",
    "runs.curve.general.more": "在领域外检查（{language}，{m} 个问题）上它保留 {g}，权重 {best_w} 为 {gb}：明显更多，超出噪声。",
    "runs.curve.general.same": "在领域外检查（{language}，{m} 个问题）上它得分 {g}（基础模型 {g0}）；验证集上同样好的权重中，"
    "没有哪个在那里明显保留得更多。",
    "runs.curve.general.left_out": "领域外检查是{language}的，而本运行的问题是{data}的：它衡量不了融合在你的语言上保留了多少，"
    "因此没有做。",
    "lang.en": "英文", "lang.zh": "中文", "lang.ja": "日文", "lang.ko": "韩文", "lang.ru": "俄文", "lang.ar": "阿拉伯文",
    "lang.latin": "英文以外的拉丁字母语言", "lang.other": "其他语言",
    "runs.command": "等价的 FlagEmbedding 命令（不经仪表盘）",
    "runs.command.files": "需要此运行所用的训练数据：{train}。与仪表盘运行的差异：",
    "runs.command.nodes": "在 2 台各有 {gpus} 张 GPU 的机器上（更多台：改 --nnodes）：在每台机器上设置 NODE_RANK=0、1、… 后运行，"
    "MASTER_HOST:29500 换成第一台机器的地址和空闲端口，训练数据在每台机器上的路径相同。预热步数按更多的 GPU 计算。",
    "configure.grad_ckpt": "梯度检查点",
    "configure.zero_stage": "DeepSpeed ZeRO",
    "configure.zero_stage.0": "关闭（DDP）", "configure.zero_stage.1": "阶段 1（优化器状态）",
    "configure.zero_stage.2": "阶段 2（+ 梯度）",
    "configure.command": "等价的 FlagEmbedding 命令",
    # held-out test split and hard-negative mining (issue 12)
    "heldout.title": "留出测试集：本次训练从未见过的问题",
    "heldout.explain": "训练前预留了 {n} 个问题：不参与训练，也不用于提前停止或任何选择。每个分数都在训练前和训练后"
    "分别在这些问题上测量。MRR@10：正确段落排第一得 1 分，第二得 1/2，第三得 1/3……不在前 10 得 0，再对所有问题取平均。",
    "heldout.col.head": "检索头",
    "heldout.metric.mrr@10": "MRR@10", "heldout.metric.recall@10": "Recall@10（正确段落在前 10）",
    "heldout.metric.ndcg@10": "nDCG@10",
    "heldout.verdict": "在留出问题上变好：**{better}** · 变差：**{worse}** · 无明显差别：**{unclear}**。",
    "heldout.col.verdict": "MRR@10 变化（95% 区间）",
    "verdict.better": "{diff}（{low} … {high}）：变好", "verdict.worse": "{diff}（{low} … {high}）：变差",
    "verdict.unclear": "{diff}（{low} … {high}）：无明显差别",
    "verdict.rule": "只有当 MRR@10 变化的 95% 区间整体位于零的一侧时才说“变好”或“变差”：对 {n} 个问题做配对自助法"
                    "（2,000 次重采样）。否则为无明显差别。",
    "verdict.not_completed": "此运行以**{status}**结束：这里评分的是它保存的模型，而不是完整训练的结果。",
    "verdict.word.better": "变好", "verdict.word.worse": "变差", "verdict.word.unclear": "无明显差别",
    "questions.validation": "{n} 个验证问题", "questions.test": "{n} 个留出测试问题",
    "questions.validation.why": "它们决定了何时提前停止、保留哪个检查点",
    "questions.test.why": "训练前预留，没有任何决定用到它们",
    "headline.change": "{head} MRR@10 在{questions}上（{why}）：{before} → {after}，{change}。",
    "headline.change.short": "{head} MRR@10 在{questions}上：{before} → {after}，{change}。",
    "headline.other": "在{questions}上的变化为 {change}。",
    "headline.why_differ": "留出测试和验证集的数字可能不同：验证问题决定了何时停止、保留哪个检查点，因此偏向保留的模型；"
    "留出问题没有参与任何决定；而且两者都是小样本。请以留出测试的数字为准。",
    "headline.cards": "{head} MRR@10 · {questions}",
    "headline.cards.pending": "{head} MRR@10 · 验证问题",
    "headline.card.before": "训练前", "headline.card.after": "训练后", "headline.card.now": "当前",
    "headline.pending": "第二次评估的逐问题名次出来后，才能判断这一变化。",
    "story.change": "在这些问题上 MRR@10 的变化：{change}。",
    "story.validation_only": "以上各行针对验证问题；本页开头给出的是没有参与任何决定的留出测试结果。",
    "train.queue": "“比较三种模式”队列中的第 {k} / {n} 个运行：{runs}。",
    "train.queue.item": "{mode}（{status}）",
    "compare.won": "**哪种模式胜出？** {run} **胜出**：在{questions}上，它的{head} MRR@10 为 {score}，明显高于{others}。",
    "compare.won.other": "{run}（{head} {score}；领先：{change}）",
    "compare.none": "**哪种模式胜出？** 没有明显的胜者：在{questions}上，{run}得分最高（{head} MRR@10 {score}），"
    "但它对{others}的领先在噪声范围内。",
    "compare.none.other": "{run}（{head} {score}；领先：{change}）",
    "compare.none.ahead": "它明显领先于{others}。",
    "compare.ahead.other": "{run}（{head} {score}）",
    "compare.no_gain": "与基础模型相比，它自身的变化为 {change}，因此微调也没有带来明显提升。",
    "compare.one": "**哪种模式胜出？** 请至少选择两个用相同数据训练的运行。",
    "compare.different_data": "**哪种模式胜出？** 这些运行无法比较：它们不是用相同数据训练、在相同问题上评估的"
    "（{runs}）。请选择同一数据集的运行。下面列出每个运行自身的变化。",
    "compare.no_ranks": "**哪种模式胜出？** 暂时无法回答：{runs}没有保留模型的逐问题名次可供比较。",
    "compare.main": "每个运行按其保留模型的主分数评判（训练稀疏头和 ColBERT 头的运行用混合分数，仅稠密用稠密分数）："
    "每个运行都有留出测试问题时用留出测试，否则用验证问题。",
    "compare.still": "{run}没有变化：{head} MRR@10 {before} → {after}，{n} 个问题中有 {changed} 个名次改变。",
    "compare.still.heads": "编码器冻结时只有很小的稀疏头和 ColBERT 头在学习，在学习率 {lr}（检索头 ×{scale}）下训练 "
    "{steps} 步，它们几乎不动。可以尝试：提高检索头的学习率（配置页 →“检索头学习率倍数”，例如 10 到 100）、"
    "增加轮数，或改用全部模块模式。",
    "compare.still.other": "在学习率 {lr} 下训练 {steps} 步，模型几乎没有变化。可以尝试：提高学习率或增加轮数。",
    "compare.still.ceiling": "训练前基础模型已把 {n} 个问题中 {first} 个的正确段落排在第一：无论怎样设置都没有提升空间。"
    "更难（或更多）的问题才能区分各模式。",
    "tryit.overall": "在全部{questions}上：{change}。单个问题的名次上升或下降，本身说明不了什么。",
    "runs.col.change": "变化（主分数，基础 → 保留）",
    "runs.change": "{diff} · {word}（{questions}）",
    "runs.final.test": "{score}（{head}，留出测试）",
    "level.rank": "当前水平：微调后的模型在{head}上，正确答案的名次中位数为 {rank}（MRR@10 {mrr}）。",
    "level.not_useful": "这还不实用：无论变化多少，正确答案都很少排在前面。",
    "mine.title": "难负例",
    "mine.explain": "训练从“看起来对、其实不对”的段落（难负例）中学得最多。挖掘会用模型的稠密检索头为每个问题给文件中的"
    "所有段落排序，跳过最靠前的几名以及与正确段落得分过于接近的段落（它可能也是正确答案），再从范围内随机选出 N 个。",
    "mine.missing": "{total} 行中有 {n} 行没有负例。训练开始前会自动挖掘；在这里挖掘可以先查看并保存结果。",
    "mine.model": "模型（用其稠密检索头为候选排序）", "mine.negatives": "每行负例数",
    "mine.range": "候选名次", "mine.range.help": "名次从 0 开始计，与 FlagEmbedding 的 hn_mine 相同：2-200 跳过最靠前的两名"
    "（常是未标注的正确答案），最多看到第 200 名。",
    "mine.margin": "假负例边界", "mine.margin.help": "丢弃得分高于 (1 − 边界) × 正确段落得分的候选。",
    "mine.seed": "随机种子", "mine.start": "挖掘难负例", "mine.stop": "停止挖掘",
    "mine.progress": "正在为 {rows} 行挖掘负例 · {phase}：{done} / {total}",
    "mine.phase.queries": "编码问题", "mine.phase.passages": "编码候选段落", "mine.phase.search": "检索（问题）",
    "mine.phase.model": "加载模型",
    "mine.starting": "正在启动挖掘进程…", "mine.loading": "正在加载模型，准备为 {rows} 行挖掘负例…",
    "mine.finishing": "正在写入挖掘后的文件…",
    "mine.failed": "挖掘没有产生结果：",
    "mine.done": "已从 {pool:,} 个候选段落为 {rows:,} 行挖掘负例，用时 {seconds:.1f} 秒 → `{output}`",
    "mine.short": "{n} 行得到的负例少于要求（{empty} 行一个也没有）：边界以下的候选太少。",
    "mine.preview": "几个问题及其正确段落和挖到的负例（余弦得分）：",
    "mine.col.kind": "类型", "mine.col.score": "得分", "mine.col.text": "段落",
    "mine.kind.pos": "✓ 正确", "mine.kind.neg": "✗ 负例",
    "mine.use": "用挖掘后的文件训练", "mine.dataset_name": "{name} + 挖掘的负例",
    "mine.small_pool": "只有 {pool} 个候选段落，少于排名范围的上限（{high}）：负例几乎取自整个文件，算不上“难”。"
    "候选段落越多，挖掘越有用（用 `python -m trainer mine --corpus` 提供语料，或使用更大的文件）。",
    "heldout.ceiling": "只有 {n} 个问题，且基础模型在{head}上的 MRR@10 已是 {before}，这个测试几乎没有提升空间：把它看作“没有变差”的检查。",
    "mine.dropped": "{n} 行一个负例也没有，已从文件中去掉（FlagEmbedding 无法在这样的行上训练）。",
    "note.path_refused": "服务器不允许读取此路径：{why}",
    "note.model_missing": "{model} 既不是本机上的文件夹，也不是像 BAAI/bge-m3 这样的 Hub 模型 id：请检查路径",
    "note.model_no_config": "{folder} 不是模型文件夹：其中没有 config.json（Hugging Face 模型文件夹包含 config.json、分词器文件和权重）",
    "note.model_bad_config": "{file} 不是有效的 JSON（{why}）：无法读取该模型；请修正该文件或重新复制模型文件夹",
    "note.model_no_weights": "{folder} 中没有权重（{files}）：无法加载该模型；请复制完整的模型文件夹",
    "note.hub_cached": "{model} 从 Hugging Face 缓存读取：{folder}",
    "note.hub_download": "{model} 尚不在 Hugging Face 缓存（{cache}）中：运行会先从 Hub 下载它",
    "note.hub_offline": "本机没有 {model}：它不在 Hugging Face 缓存（{cache}）中，且设置了 HF_HUB_OFFLINE，现在无法下载。"
    "请在能上网的地方下载一次：`huggingface-cli download {model}`（或 `hf download {model}`），它会存入该缓存"
    "（HF_HUB_CACHE，未设置时为 HF_HOME/hub）。也可以把模型目录复制到本机，并把该目录的路径填作模型。",
    "note.hub_unreachable": "本机没有 {model}：它不在 Hugging Face 缓存（{cache}）中，且从这里连不上 Hub（huggingface.co）："
    "没有网络，或被代理、防火墙拦截。请在能上网的地方下载一次：`huggingface-cli download {model}`（或 "
    "`hf download {model}`），它会存入该缓存（HF_HUB_CACHE，未设置时为 HF_HOME/hub）。也可以把模型目录复制到本机，"
    "并把该目录的路径填作模型。",
    "note.hub_not_found": "{model} 不在 Hugging Face 缓存（{cache}）中，Hub 上也没有本机可读取的同名模型（名称拼错，"
    "或是私有模型：请用 `hf auth login` 登录）。请检查名称，或把模型目录复制到本机，并把该目录的路径填作模型。",
    "note.hub_gated": "{model} 不在 Hugging Face 缓存（{cache}）中，且 Hub 要求先同意其使用条款：请在 huggingface.co 上"
    "同意条款并用 `hf auth login` 登录，然后下载一次：`huggingface-cli download {model}`。也可以把模型目录复制到本机，"
    "并把该目录的路径填作模型。",
    "note.hub_refused": "{model} 不在 Hugging Face 缓存（{cache}）中，且 Hub 拒绝了请求（HTTP {status}）。"
    "请在能上网的地方下载一次：`huggingface-cli download {model}`（或 `hf download {model}`），它会存入该缓存"
    "（HF_HUB_CACHE，未设置时为 HF_HOME/hub）。也可以把模型目录复制到本机，并把该目录的路径填作模型。",
    "note.no_pooling": "{folder} 没有 1_Pooling/config.json：本次运行按 BGE 模型的做法使用 CLS 池化",
    "note.other_pooling": "{file} 既未指定 CLS 也未指定 mean 池化：本次运行按 BGE 模型的做法使用 CLS 池化",
    "note.no_eos": "分词器没有 EOS token：由其 SEP token {sep} 代替，因此稀疏头不给 {sep} 任何权重",
    "note.no_heads": "{folder} 缺少 {missing}：FlagEmbedding 只有在这两个文件都存在时才加载 ColBERT 头和稀疏头，"
    "因此两者都从随机初始化开始（它们第 0 步的分数是随机基线）",
    # 每个 RunConfig 字段一条说明：配置页的提示与 `python -m trainer train --help` 共用
    **{f"field.{k}": v for k, v in FIELD_TEXT["zh"].items()},
    "story.title": "微调带来的变化（验证查询，第 0 步 → 第 {step} 步）",
    "story.head": "**{head}**：",
    "story.moved": "{queries} 个验证查询中，{improved} 个的搜索结果变好，{worse} 个变差；"
                   "正确答案的平均排名从 {before:.1f} 变为 {after:.1f}。",
    "story.pending": "第 0 步之后的第一次验证完成后，这里会显示每个查询的变化。",
    "story.mrr": "MRR@10 衡量正确答案排得多靠前：1.0 表示总是第一，0.5 大约第二，0 表示从未进入前 10。",
    "story.mrr_formula": "MRR@10 = (1/|Q|) · Σ_q 1/rank(q)，rank(q) 是查询 q 第一个正确段落的名次；"
                         "正确段落不在前 10 的查询记为 0。",
    "configure.start_here": "**从这里开始**，自上而下：1. 模型与数据 → 2. 训练哪些模块 → 3. 训练设置 → "
                            "4. 内存与显存 → [5. 开始](#start)。默认设置即可训练演示数据。",
    "configure.terms": "稠密：每段文本一个向量，整体比较。稀疏：为每个词学习一个权重，类似关键词检索。"
                       "ColBERT：每个 token 一个向量，查询中的每个词在段落中找最匹配的词。"
                       "混合：稠密 + 0.3 × 稀疏 + ColBERT，M3 用它排序。",
    "configure.mode_choose": "选择", "configure.mode_chosen": "✓ 已选择",
    "configure.mode_flags": "FlagEmbedding 参数：{flags}",
    "configure.lr_far": "学习率 {lr} 与针对 {rows} 条样本的建议值 {suggested} 相差较大；预设值来自文章中的大数据集。",
    "configure.preset_applied": "已应用“{preset}”：预热为自动，共 {total} 步中预热 {warmup} 步。",
    "configure.warmup_long": "{total} 步的运行预热 {warmup} 步：学习率最多只达到目标值的 {reach}。",
    "configure.card_far": "此卡可用 {usable:.0f} GiB，远高于这些柱形。",
    "configure.no_gpu": "本机没有 NVIDIA GPU：训练在 CPU 上以 fp32 运行（{cores} 核，{ram:.0f} GiB 内存）。",
    "configure.cpu_estimate": "此运行的训练进程在 CPU 上（fp32）的内存峰值估计：{need:.1f} GiB，本机内存 {ram:.0f} GiB"
    "（模型、优化器、激活值，以及批次实际填充长度下的注意力分数；按 2 核机器上的实测运行拟合）。",
    "configure.memory_short": "此运行约需 {need:.1f} GiB 内存（{where}），而那里只有 {have:.1f} GiB：会因内存不足而失败。"
    "在改到放得下之前，或在下方确认接受这一风险之前，无法开始。",
    "configure.memory_short.cpu": "本机 CPU 内存，fp32 训练",
    "configure.memory_short.none": "连批大小 1 也放不下：请换更小的模型，或在内存更大的机器上训练。",
    "configure.memory_short.fixes": "放得下的改法（点一下即可设置）：",
    "configure.memory_fix.batch_size": "批大小 {value}（约 {need:.1f} GiB）",
    "configure.memory_fix.passage_max_len": "段落 {value} 个 token（约 {need:.1f} GiB）",
    "configure.memory_fix.mode": "模式：{value}（约 {need:.1f} GiB）",
    "configure.memory_fix.gradient_checkpointing": "开启梯度检查点（约 {need:.1f} GiB）",
    "configure.memory_anyway": "仍然开始：我接受它可能内存不足",
    "configure.memory_anyway.help": "估计可能有偏差；内存不足的运行会被终止并记为失败（已保存的内容不受影响）。"
    "命令行中对应 --ignore-memory-estimate。",
    "list.sep": "、",
    "configure.split_refused": "无法从此文件划分留出集，因此运行无法开始：",
    "configure.model_refused": "暂时无法开始：此模型无法在这里训练（原因和做法见上方“模型与数据”）。",
    "configure.model.embedded": "{name}（内置于 PyPI 包 {package}）",
    "configure.plan_gpu": "为 GPU 做规划：各模式的显存估计",
    "configure.start_section": "5. 开始",
    "configure.summary": "{mode} · {epochs} · {steps} · 批次 {batch} · 学习率 {lr}",
    "train.starting": "正在启动：加载模型，并在验证查询上为基础模型打分……",
    "train.progress_first": "第 {step} / {total} 步",
    "train.progress_ended": "{status}：第 {step} / {total} 步。",
    "train.waiting_loss": "损失和学习率图从第一个训练步开始显示。",
    "train.waiting_mrr": "基础模型打分（第 0 步）完成后显示验证图。",
    "train.no_eval": "此运行没有验证目录：没有 MRR@10。",
    "compare.verdict": "结论",
    "compare.why.all.dense": "原因：全部模块模式也训练编码器，稠密分数随之变化。",
    "compare.why.all.heads": "原因：全部模块模式同时训练编码器、稀疏头和 ColBERT 头。",
    "compare.why.heads.dense": "原因：此模式冻结编码器，稠密分数与基础模型相同。",
    "compare.why.heads.heads": "原因：稀疏头和 ColBERT 头在冻结的编码器上学习，是调整它们最省的方式。",
    "compare.why.dense.dense": "原因：仅稠密模式每一步都只优化稠密分数。",
    "configure.train_rows": "实际训练文件 {total} 行中的 {rows} 行：其余留出（验证与测试问题，以及与训练行共享的段落）。",
    "configure.time.cpu": "本机 CPU（{cores} 核）",
    "configure.time.none": "还无法估计运行时间：{device} 上还没有测量过此模型和模式的运行。速度检查会用这些设置训练几步真实的步骤（最多约 {seconds} 秒）。",
    "configure.time.measure": "测量速度（最多约 {seconds} 秒）",
    "configure.time.slowed": "那次运行训练时有其他任务共用本机（它的用时比计算本身慢 {slowed} 倍）：此估计按它的计算速度，"
    "即本机没有其他任务时的用时；若有其他任务同时运行，最多可能慢 {slowed} 倍。",
    "configure.time.unsound": "不给出缩短建议：它依据的速度是在有其他任务共用本机时测得的。请在本机空闲时重新测量速度。",
    "configure.time.queue": "“比较三种模式”的三个运行合计约需 {total}。",
    "configure.time.fit_cut": "段落截断到 {length} 词元会丢掉数据中 {dropped} 的段落文本（一半的段落长于 {typical} 词元）。",
    "configure.time.measuring": "正在用这些设置训练几步真实的步骤……",
    "configure.time.estimate": "在{device}上的估计用时：约 **{time}**，共 {steps} 步（每步 {step_s} 秒）、{evals} 次验证"
    "（每次 {eval_s} 秒），启动 {startup}；按运行 {source} 换算。提前停止可能让它更早结束。",
    "configure.time.long": "用时较长。更短的段落会让每一步更省时：",
    "configure.time.budget": "可用时间（分钟）",
    "configure.time.budget.help": "旁边会给出估计用时不超过此时间的最长段落长度。",
    "configure.time.fit": "使用 {length} 词元的段落（可在 {budget} 分钟内完成）",
    "configure.time.no_fit": "即使 64 词元的段落也无法在 {budget} 分钟内完成：减少轮数、减小批次或使用 GPU 才行。",
    "configure.presets_note": "预设来自 BGE-M3 的文章（5.68 亿参数、大规模数据）：其学习率适合该模型；对小模型或少量数据，"
    "下方建议的学习率通常更高。",
    "configure.min_epochs_long": "共 {epochs}时提前停止不会生效：它至少等待 {min}。",
    "dataset.origin.upload": "上传", "dataset.origin.mined": "挖掘", "dataset.origin.path": "路径",
    "dataset.demo": "演示", "dataset.eval.split": "留出划分", "dataset.eval.demo": "演示验证集",
    "dataset.eval.none": "不评测", "dataset.eval.folder": "自有目录",
    "dataset.unknown_high": "{model} 把这份数据 {share} 的词元识别为未知（[UNK]）：它读不懂其中大部分文字（词表缺少这种文字），"
    "因此它的分数和挖掘的负例意义不大，微调也无法弥补。请使用能读懂该语言的模型，例如 BAAI/bge-m3（配置 → 模型 → 自定义）。",
    "dataset.unknown_low": "{model} 把这份数据 {share} 的词元识别为未知（[UNK]）。",
    "tryit.sorted": "正确段落在前 10 名内变化最大的查询排在前面，无论上升或下降（{head}名次，第 0 步 → 最后一次验证）："
                    "▲ 上升，▼ 下降，= 不变。",
    "tryit.heaviest": "权重最大的词：", "tryit.score": "{head}分数",
    "tryit.typed_change": "对你的查询，两个模型的前 {k} 个段落中有 {same} 个相同（其中 {moved} 个位置变了）；{first}"
    "右侧的标记表示每个段落在基础模型中的位置。",
    "tryit.move.new": "新进入前 {k}", "tryit.move.from": "{arrow}（基础：第 {before} 名）",
    "tryit.passage_legend": "阴影词：稀疏头给段落中每个词的权重（颜色越深权重越大；悬停可看数值），即稀疏分数的来源。",
    "tryit.first_same": "第一个结果没有变化。", "tryit.first_changed": "第一个结果变了。",
    "tryit.no_weights": "此查询没有任何词获得稀疏权重：模型的分词器把这些字符识别为未知（[UNK]），或稀疏头给它们的权重为 0。",
    "data.file_problem": "{file}：{message}", "data.count": "数量",
    "data.sampled": "来自从整个文件均匀抽取的 {sample} 行样本（共 {rows} 行有效数据）；计数与负例直方图覆盖全部行。",
    "scan.progress": "正在检查训练文件：{done:,.0f} / {size:,.0f} MiB，目前 {rows} 行有效，{problems} 个问题",
    "scan.failed": "无法检查训练文件：{error}",
    "scan.again": "重新检查文件",
    "scan.more": "……另有 {n} 个问题未列出",
    "configure.scanning": "训练文件检查完成后（见上方）即可开始。",
    "configure.buckets_sampled": "按从整个文件均匀抽取的 {sample} 行样本（共 {rows} 行）规划；下方的行数与步数已按整个文件换算。训练时会对全部行重新规划。",
    # the settings search
    "nav.sweep": "寻找设置", "status.pruned": "已剪枝",
    "configure.sweep": "寻找最佳设置",
    "configure.sweep.help": "针对这些数据和设置搜索模式、学习率和轮数：试验在验证集上比较，胜出者只测试一次（“寻找设置”页）。",
    "sweep.title": "寻找最佳设置",
    "sweep.intro": "在你的数据上尝试多组设置并保留最好的一组：模式、学习率（配置页学习率的 ÷{span} 到 ×{span}）和轮数。"
                   "每次尝试（试验）都是一次普通运行，逐个训练，在验证问题上评分：该模式所依据检索头的 MRR@10"
                   "（含稀疏和 ColBERT 头时为混合，仅稠密时为稠密）。落后于之前试验的会被提前停止（剪枝）。"
                   "只有胜出者在搜索结束后在留出问题上测试一次：选择从不看这些问题，所以这个测试仍然可信。",
    "sweep.new": "新建搜索", "sweep.pick": "搜索",
    "sweep.no_base": "搜索以配置页的设置（数据、模型、批大小、长度）为基础：先在那里设置好，再点“寻找最佳设置”。",
    "sweep.to_configure": "打开配置页",
    "sweep.base": "各次试验共用配置页的设置（数据 {data}，模型 {model}，批大小 {batch}，长度）；每次试验尝试各自的模式、学习率和轮数。",
    "sweep.modes_placeholder": "选择一个或多个", "sweep.modes_help": "每次试验训练其中一种模式；选多个时，搜索也会选出模式。",
    "sweep.trials_help": "达到这么多次试验或时间预算用完时，搜索结束。",
    "sweep.budget_help": "所有试验加起来的训练时间；用完时仍在训练的试验会停止，按其最后一次验证计分。",
    "sweep.pruner_help": "中位数规则：从第二次验证起，低于之前试验在同一次验证时中位数的试验会停止。逐次减半：每一轮只有较好的一部分试验继续。"
                         "从不：每次试验都训练到结束。",
    "sweep.lr_range": "尝试的学习率：{low} 到 {high}（对数刻度），围绕配置页的 {lr}。",
    "sweep.untrained": "{mode}：训练前", "sweep.winner_mark": "胜出者",
    "sweep.chart_note": "每个点是一次试验最近一次的验证 MRR@10（完成的试验取其结束时，被剪枝的取其停止时）；虚线是各模式训练前的分数。"
                        "各模式按各自的检索头评判，混合一开始就比稠密高。",
    "sweep.col.before": "训练前", "sweep.rerun": "已停止（会重新运行）",
    "sweep.epochs_help": "每次试验训练该范围内的整数轮数（由搜索选定）。",
    "sweep.too_few": "{mode} 已完成 {n}，搜索还不能说明最佳学习率在哪里。",
    "sweep.untested_stopped": "胜出者会在搜索结束时在留出问题上测试：这次搜索在结束前被停止了。",
    "sweep.test_line": "在任何试验都没见过的留出问题上，它的{head} MRR@10 从 {before} 变为 {after}：{words}。"
                       "请相信这个留出变化，而不是上面的验证提升：胜出者正是按验证分数选出的，验证分数会偏高。",
    "configure.lr_from_sweep": "这个学习率来自设置搜索的胜出者（寻找设置页）。",
    "sweep.modes": "要尝试的模式", "sweep.trials": "试验次数（最多）",
    "sweep.budget": "时间预算（训练分钟数）", "sweep.pruner": "停止落后的试验",
    "sweep.pruner.median": "中位数规则", "sweep.pruner.halving": "逐次减半", "sweep.pruner.none": "从不",
    "sweep.max_steps": "每次试验训练 {steps}（最大步数，在配置页设置）：不搜索轮数。",
    "sweep.epochs": "要尝试的轮数",
    "sweep.needs_validation": "搜索需要验证集来评判试验：请在配置页选择留出划分（或评估文件夹）。",
    "sweep.start": "开始搜索",
    "sweep.status": "**{state}**：{total} 次试验中已结束 {done} 次 · 已用训练时间 {spent} / {budget}。",
    "sweep.running": "运行中", "sweep.done": "已完成", "sweep.paused": "未完成即停止",
    "sweep.stop": "停止搜索", "sweep.resume": "继续搜索",
    "sweep.pruned": "已剪枝", "sweep.suggested_line": "建议值 {lr}",
    "sweep.x": "学习率（对数刻度）", "sweep.y": "验证集 MRR@10（该模式的主检索头）",
    "sweep.col.trial": "试验", "sweep.col.lr": "学习率", "sweep.col.epochs": "轮数",
    "sweep.col.status": "状态", "sweep.col.score": "验证集 MRR@10",
    "sweep.winner": "胜出者",
    "sweep.winner_line": "试验 #{n}：**{mode}**，学习率 **{lr}**，{epochs}：验证集 MRR@10（{head}）训练前 {before} → "
                         "**{score}**，在已完成的试验中最好（并列时选用时更短的运行）。",
    "sweep.suggestion_within": "建议的学习率（{lr}）**在**找到的最佳范围内（{range}）。",
    "sweep.suggestion_outside": "建议的学习率（{lr}）**不在**找到的最佳范围内（{range}）。",
    "sweep.range_rule": "最佳范围：验证分数没有被胜出者以超出噪声的幅度超过的那些试验（{trials}）所用的学习率"
                        "（对验证问题做配对自助法，95% 区间）。验证问题少时范围宽；试验少时范围窄。",
    "sweep.untested": "胜出者没有留出测试分数：其评估数据没有测试划分，或测试尚未运行。",
    "sweep.outcome.completed": "已完成", "sweep.outcome.failed": "失败",
    "sweep.outcome.budget": "已停止：时间预算用完（按其最后一次验证计分）",
    "sweep.outcome.pruned": "已剪枝：在某次验证时落后于其他试验",
    "sweep.outcome.running": "训练中", "sweep.outcome.waiting": "在队列中等待",
    "sweep.outcome.starting": "等待轮到它",
    "sweep.outcome.not_started": "未开始：搜索先被停止了",
    "sweep.outcome.rerun_pending": "随搜索一起停止：继续搜索时会完整地重新运行",
    "sweep.outcome.reran": "随搜索一起停止：已作为 #{n} 重新运行",
    "sweep.col.again": "#{n}（#{of} 重跑）",
    "sweep.budget_short": "时间预算（{budget} 分钟）只够所要求 {trials} 次试验中的约 {fits} 次：在本机一次试验约需 {per}"
    "（根据运行 {source} 估计），全部需要约 {need} 分钟。请提高预算，或减少试验次数。",
    "sweep.budget_fits": "在本机一次试验约需 {per}（根据运行 {source} 估计）：{trials} 次试验约需 {need} 分钟，预算为 "
    "{budget} 分钟（剪枝会让部分试验更早结束）。",
    "sweep.budget_unknown": "本机还没有测量过这个模型和模式的运行，因此不知道预算够几次试验：第一次试验会测出来。",
    "sweep.length_steps": "配置页设置的最大步数",
    "sweep.suggested.won": "**建议的设置胜出**：试验 #{n}（{mode}，学习率 {lr}，{length}）验证得分 {score}，比次优者"
    "（#{rival}，{rival_score}）高 {margin}：{noise}。",
    "sweep.suggested.lost": "**建议的设置没有胜出**：试验 #{n}（{mode}，学习率 {lr}，{length}）验证得分 {score}，"
    "胜出者 #{rival} 为 {rival_score}，高 {margin}：{noise}。",
    "sweep.suggested.alone": "**建议的设置胜出**（试验 #{n}：{mode}，学习率 {lr}，{length}）；没有其他完成的试验可供比较。",
    "sweep.suggested.unscored": "建议的设置（试验 #{n}：{mode}，学习率 {lr}，{length}）没有可比较的最终得分：{outcome}。",
    "sweep.noise.clear": "超出噪声（对 {q} 个验证问题做配对自助法检验）",
    "sweep.noise.won_unclear": "在 {q} 个验证问题上仍在噪声范围内，领先并不明确：其他设置可能同样好",
    "sweep.noise.lost_unclear": "在 {q} 个验证问题上仍在噪声范围内，就这些问题而言建议的设置同样好",
    "sweep.noise.unknown": "无法判断是否超出噪声（两者没有都记录逐题名次）",
    "sweep.use": "用这些设置训练",
    "sweep.use_help": "把胜出者的模式、学习率和轮数复制到配置页；在那里选择数据（例如全部数据）。胜出者自己的模型是运行“{run}”：可在运行记录页导出。",
    "sweep.export": "打开运行记录（导出）",
    "path.refused": "此路径不能在这里使用：{why}",
    "scan.waiting": "服务器上正在扫描另外 {n} 个文件；其中一个结束后就开始扫描这个文件。",
    "mine.busy": "现在无法开始挖掘：{detail}",
    "data.remove": "移除此数据集",
    "data.remove.help": "忘记这个名称；上传或挖掘得到的文件也会从服务器上删除（按路径给出的你自己的文件保持原处）。"
                        "用它训练过的运行保留其结果。",
}


TEXTS = {"en": EN, "zh": ZH}
