"""One description per RunConfig field, in each language: the Configure page's help (app/i18n.py takes them as
`field.NAME`) and `python -m trainer train --help`. Here, not in app/, so the command line imports nothing
from the dashboard. trainer.fields holds the rest of each field's facts (choices, bounds, widgets)."""

FIELD_TEXT = {
    "en": {
        "mode": "Which modules train: all (encoder + dense, sparse, ColBERT heads), heads (sparse + ColBERT "
            "heads, encoder frozen) or dense (encoder, dense only).",
        "model": "A local model folder or a hub id; 'default' is the embedded all-MiniLM-L6-v2.",
        "train_data": "Training JSONL, one object a line: query, pos, neg (optional: rows without it get mined "
            "negatives); or CSV/TSV with a query and a positive column; 'demo' is the built-in demo data.",
        "eval_data": "BEIR-style validation folder (queries.jsonl, corpus.jsonl, qrels.tsv); 'demo' is the "
            "demo's; 'split' holds validation and test questions out of your training file; none: no validation.",
        "name": "A name for the run, shown in the run lists.",
        "epochs": "Passes over the training rows.",
        "max_steps": "Optimizer steps to train; above 0 it replaces the epochs.",
        "batch_size": "Queries per device in one step.",
        "group_size": "Passages per query: 1 positive and (group size - 1) negatives.",
        "query_max_len": "Longest query in tokens; longer ones are cut.",
        "passage_max_len": "Longest passage in tokens; longer ones are cut.",
        "learning_rate": "Peak learning rate, reached after the warmup.",
        "warmup_steps": "Steps from 1/10 of the learning rate up to it; -1: derived from the run's length.",
        "weight_decay": "AdamW weight decay.",
        "max_grad_norm": "Gradients are clipped to this norm.",
        "temperature": "Temperature of the contrastive loss.",
        "precision": "auto: bf16/fp16 AMP on a GPU, fp32 on a CPU; or fp32, fp16, bf16.",
        "pooling": "Sentence pooling of the dense head: auto follows the model (CLS for BGE-M3); or cls, mean.",
        "sparse_head": "lean: the sparse head's memory grows with batch × vocabulary; stock: FlagEmbedding's "
            "own, batch × length × vocabulary. Same vectors, loss and gradients.",
        "seed": "Random seed: data order and head initialisation.",
        "eval_every_steps": "Also validate every N steps; 0: at step 0 and after each epoch only.",
        "early_stopping_patience": "Stop after this many validations without improvement; 0: never stop early.",
        "early_stopping_min_epochs": "Never stop early before this many epochs.",
        "skip_bad_rows": "Train on the valid rows of a training file that also has invalid ones (their count is "
            "kept with the run); without it such a file is refused.",
        "num_gpus": "GPUs to train on, one torchrun process each.",
        "negatives_cross_device": "Each query is also scored against the passages of the other GPUs' batches: "
            "more negatives per step at almost no memory cost, usually a better contrastive signal. Off: each GPU "
            "only sees its own in-batch negatives.",
        "zero_stage": "DeepSpeed ZeRO on GPUs: 0 off (plain DDP); 1 shards the optimizer state and fp32 master "
            "weights over the GPUs; 2 shards the gradients too. Less memory per GPU, the same training curve.",
        "gradient_checkpointing": "Recompute each layer's activations in backward instead of keeping them: "
            "far less activation memory (much larger batches fit), about a third more time per step.",
        "val_fraction": "With eval_data 'split': the share of your rows held out for validation (early stopping).",
        "test_fraction": "With eval_data 'split': the share of your rows held out as a test set that no decision "
            "uses; its scores before and after training are the run's honest result.",
        "mine": "Hard negatives: 'missing' mines them for rows that have none, 'all' replaces every row's "
            "negatives with mined ones, 'off' never mines.",
        "mine_negatives": "Negatives mined per row.",
        "mine_range": "Candidate ranks A-B, counted from 0 (FlagEmbedding's advice: 2-200).",
        "mine_margin": "False-negative guard: drop candidates scoring above (1 − margin) × the positive's score.",
        "self_distill": "FlagEmbedding's M3 recipe: each head also learns from the three heads' combined score "
            "(use_self_distill; all-heads and heads modes).",
        "self_distill_start_step": "Step from which self-distillation starts.",
        "teacher_scores": "Distil from the rows' pos_scores/neg_scores (a reranker's, python -m trainer score) "
            "with FlagEmbedding's m3_kd_loss.",
        "heads_lr_scale": "The sparse and ColBERT heads train at the learning rate times this.",
        "sparse_init": "A sparse head the model does not ship starts random (FlagEmbedding's way) or uniform "
            "(every token weight 1).",
        "report_to": "Also log to TensorBoard or MLflow (files inside the run folder, no server), or none.",
        "length_buckets": "Length buckets for long passages: off; auto (rows grouped by token length at edges "
            "0/500/1000/2000/4000/8192, each group at the largest batch the memory estimator fits, "
            "up to the batch size, gradient checkpointing where batch 1 would not fit); or your own "
            "edges, e.g. 0,500,2000. Training passages then keep their full length; the passage "
            "length applies to evaluation.",
        "bucket_gpu_gib": "The GPU memory (GB or GiB) the length buckets are sized for; 0: this machine's GPU "
            "(an 80 GB card when none is visible).",
        "unpadded": "Encode each batch's real tokens packed into one stream (attention still per text), never "
            "its padding: the same embeddings, scores and losses with less GPU memory, and faster the more "
            "padding the data has (1.45x on SciFact's 36 % padding, 1.2x on CMRC's 17 %, on an H200). On by "
            "default on GPUs (a CPU run pads). Off: every batch padded to its longest text, as FlagEmbedding does.",
        "held_out_test": "Test the model on the held-out split before and after training. A settings search's "
            "trials leave it out: only the winner is tested, once, after the search.",
    },
    "zh": {
        "mode": "训练哪些模块：all（编码器 + 稠密、稀疏、ColBERT 头）、heads（稀疏 + ColBERT 头，冻结编码器）"
            "或 dense（编码器，仅稠密）。",
        "model": "本地模型文件夹或 hub id；'default' 为内置的 all-MiniLM-L6-v2。",
        "train_data": "训练 JSONL，每行一个对象：query、pos、neg；'demo' 为内置演示数据。",
        "eval_data": "BEIR 格式的验证文件夹（queries.jsonl、corpus.jsonl、qrels.tsv）；'demo' 为演示数据的；"
            "'split' 从训练文件中留出验证与测试问题；none：不验证。",
        "name": "运行名称，显示在运行列表中。",
        "epochs": "遍历训练数据的轮数。",
        "max_steps": "训练的优化步数；大于 0 时取代轮数。",
        "batch_size": "每张卡每步的查询数。",
        "group_size": "每个查询的段落数：1 个正例和（组大小 - 1）个负例。",
        "query_max_len": "查询的最大 token 数；更长的会被截断。",
        "passage_max_len": "段落的最大 token 数；更长的会被截断。",
        "learning_rate": "峰值学习率，预热结束时达到。",
        "warmup_steps": "学习率从其 1/10 升到峰值的步数；-1：按运行长度推算。",
        "weight_decay": "AdamW 权重衰减。",
        "max_grad_norm": "梯度裁剪到此范数。",
        "temperature": "对比损失的温度。",
        "precision": "auto：GPU 上 bf16/fp16 混合精度，CPU 上 fp32；或 fp32、fp16、bf16。",
        "pooling": "稠密头的句向量池化：auto 跟随模型（BGE-M3 为 CLS）；或 cls、mean。",
        "sparse_head": "lean：稀疏头显存随 批次 × 词表 增长；stock：FlagEmbedding 原版，批次 × 长度 × 词表。"
            "向量、损失与梯度相同。",
        "seed": "随机种子：数据顺序与头的初始化。",
        "eval_every_steps": "另外每 N 步验证一次；0：仅在第 0 步和每轮结束时。",
        "early_stopping_patience": "连续这么多次验证没有提升就停止；0：从不提前停止。",
        "early_stopping_min_epochs": "在这么多轮之前从不提前停止。",
        "skip_bad_rows": "训练文件含无效行时，仅用有效行训练（跳过数随运行记录）；不选则拒绝该文件。",
        "num_gpus": "训练用的 GPU 数量，每张一个 torchrun 进程。",
        "negatives_cross_device": "每个查询也与其他 GPU 批次中的段落打分：每步更多负例，几乎不增加显存，"
            "通常对比学习信号更好。关闭时每张 GPU 只用本批次内的负例。",
        "zero_stage": "GPU 上的 DeepSpeed ZeRO：0 关闭（普通 DDP）；1 把优化器状态和 fp32 主权重分片到各 GPU；"
            "2 连梯度也分片。每张 GPU 显存更少，训练曲线不变。",
        "gradient_checkpointing": "反向传播时重算每层激活而不保存：激活显存大幅减少（可用大得多的批次），"
            "每步约多花三分之一时间。",
        "val_fraction": "评估数据为 'split' 时：留作验证（提前停止）的行的比例。",
        "test_fraction": "评估数据为 'split' 时：留作测试集的行的比例，不参与任何决定；训练前后在其上的分数就是本次运行的真实结果。",
        "mine": "难负例：'missing' 为没有负例的行挖掘，'all' 用挖掘结果替换所有行的负例，'off' 不挖掘。",
        "mine_negatives": "每行挖掘的负例数。",
        "mine_range": "候选名次 A-B，从 0 开始计（FlagEmbedding 建议 2-200）。",
        "mine_margin": "假负例保护：丢弃得分高于 (1 − 边界) × 正例得分的候选。",
        "self_distill": "FlagEmbedding 的 M3 训练方法：每个检索头也向三个头的综合得分学习（use_self_distill；全部头与仅头模式）。",
        "self_distill_start_step": "自蒸馏开始的步数。",
        "teacher_scores": "用行中的 pos_scores/neg_scores（重排模型给出，python -m trainer score）以 FlagEmbedding 的 m3_kd_loss 蒸馏。",
        "heads_lr_scale": "稀疏与 ColBERT 头的学习率为学习率乘以此值。",
        "sparse_init": "模型未自带的稀疏头：随机初始化（FlagEmbedding 的做法）或均匀（每个词权重为 1）。",
        "report_to": "同时记录到 TensorBoard 或 MLflow（文件在运行文件夹内，无需服务器），或不记录。",
        "length_buckets": "长文本的长度分桶：off 关闭；auto（按 token 长度以 0/500/1000/2000/4000/8192 为界分组，"
            "每组取显存估算器判定可容纳的最大批次，不超过批次大小；批次为 1 也放不下时开启梯度检查点）；"
            "或自定边界，如 0,500,2000。此时训练段落保留完整长度，段落长度只用于评估。",
        "bucket_gpu_gib": "长度分桶按此显存（GB 或 GiB）估算；0：本机 GPU（无可见 GPU 时按 80 GB 卡）。",
        "unpadded": "把每批文本的真实词元打包成一条序列编码（注意力仍按文本分开），从不计算填充：向量、分数和损失不变，"
            "显存更少，数据填充越多越快（在 H200 上，SciFact 填充 36% 时快 1.45 倍，CMRC 填充 17% 时快 1.2 倍）。"
            "GPU 上默认开启（CPU 运行仍填充）。关闭：每批填充到最长文本，与 FlagEmbedding 相同。",
        "held_out_test": "训练前后在留出的测试集上测试模型。设置搜索的各次试验不做测试：只有胜出者在搜索结束后测试一次。",
    },
}
