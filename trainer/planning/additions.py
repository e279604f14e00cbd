"""The product's additions: everything a dashboard run does that the plain FlagEmbedding command
(trainer.planning.reproduce) does not, in one list. Every behaviour the worker applies is either an argument in
the run's plan (its `args`, which the command carries) or one of these; Configure's preview, the Runs page and the
model card show the list whole, each entry that applies to the run (`applied`). No torch."""
from __future__ import annotations

from trainer.core.config import RunConfig
from trainer.planning.plan import studio_options

# key -> {language: words}. The keys are stable (tests and pages name them); the words are what users read.
ADDITIONS: dict[str, dict[str, str]] = {
    "warmup": {
        "en": "warmup: the dashboard starts at 1/10 of the target learning rate; FlagEmbedding's linear warmup "
              "starts at 0",
        "zh": "预热：仪表盘从目标学习率的 1/10 开始；FlagEmbedding 的线性预热从 0 开始"},
    "sparse_head": {
        "en": "sparse head: the dashboard's lean head needs less memory; FlagEmbedding uses its stock head (same "
              "scores, loss and gradients)",
        "zh": "稀疏头：仪表盘的精简稀疏头更省显存；FlagEmbedding 使用原版稀疏头（分数、损失和梯度相同）"},
    "sparse_init": {
        "en": "sparse head start: for a model that ships no sparse head, the dashboard starts every token at weight 1 "
              "(a plain lexical match); FlagEmbedding starts it random",
        "zh": "稀疏头初始化：模型未自带稀疏头时，仪表盘让每个词元的初始权重为 1（纯词面匹配）；FlagEmbedding 随机初始化"},
    "heads_lr": {
        "en": "heads learning rate: with a heads LR scale other than 1 the dashboard trains the sparse/ColBERT heads "
              "faster; the command has no such flag",
        "zh": "检索头学习率：检索头学习率倍数不为 1 时，仪表盘以更高学习率训练稀疏与 ColBERT 头；该命令没有对应参数"},
    "unpadded": {
        "en": "unpadded encoding (on GPUs unless switched off): the dashboard encodes each batch's real tokens "
              "packed, without computing their padding (same embeddings and losses, less memory, faster on padded "
              "data); the command pads every batch to its longest text and has no such flag",
        "zh": "无填充编码（GPU 上默认开启，可关闭）：仪表盘把每批文本的真实词元打包编码，不计算填充部分（向量与损失相同，显存更少，"
              "数据有填充时更快）；该命令把每批填充到最长文本，且没有对应参数"},
    "pooler": {
        "en": "pooler: the dashboard freezes the encoder's pooler, which M3 never uses (it pools the last hidden "
              "state), so it gets no gradient and DDP need not search for unused parameters; the command keeps it "
              "trainable (the same updates: it gets no gradient either way)",
        "zh": "池化层：仪表盘冻结编码器的池化层（M3 从最后一层隐藏状态池化，从不使用它），因此它没有梯度、DDP 无需查找未用参数；"
              "该命令保持其可训练（更新相同：两种情况下都没有梯度）"},
    "eos": {
        "en": "end token: for a tokenizer without an EOS token (BERT-style), the dashboard uses SEP as EOS, which "
              "FlagEmbedding's sparse head masks; saved with the model. With such a model the command fails in the "
              "sparse head (all heads, sparse + ColBERT) unless the tokenizer it is given has an EOS token",
        "zh": "结束符：分词器没有 EOS（BERT 类）时，仪表盘以 SEP 作为 EOS（FlagEmbedding 的稀疏头会屏蔽它），并随模型保存。"
              "对这类模型，除非所给分词器带有 EOS，该命令在稀疏头处出错（全部头、稀疏 + ColBERT）"},
    "float": {
        "en": "weights in fp32: the dashboard loads a half-precision checkpoint in fp32 (AMP trains fp32 master "
              "weights); newer transformers would load it as half",
        "zh": "fp32 权重：仪表盘以 fp32 加载半精度检查点（混合精度训练需要 fp32 主权重）；新版 transformers 会按半精度加载"},
    "validation": {
        "en": "validation and early stopping: the dashboard evaluates each epoch and can stop early; the command "
              "trains every epoch without evaluation",
        "zh": "验证与早停：仪表盘每轮评测并可提前停止；该命令训练全部轮数且不评测"},
    "data": {
        "en": "data: the dashboard holds validation and test questions out of your file and mines the negatives rows "
              "lack; the command trains on the run's own train.jsonl, where that was already done",
        "zh": "数据：仪表盘会从你的文件中留出验证与测试问题，并为缺少负例的行挖掘负例；该命令直接使用运行文件夹中已处理好的 train.jsonl"},
    "progress": {
        "en": "progress bar: off in a dashboard run (its progress is on the Train page), on in the terminal, as "
              "in the command",
        "zh": "进度条：仪表盘中的运行不显示（进度在训练页），终端中显示，与该命令相同"},
}


def applied(config: RunConfig, studio: dict | None = None) -> list[str]:
    """The additions that apply to a run of `config`: by its plan's `studio` options, or, for a run without a plan,
    by the options a plan makes on a GPU (unpadded encoding as the config asks)."""
    studio = studio if studio is not None else studio_options(config, cuda=True)
    trains_heads = config.mode.unified_finetuning
    keys = ["warmup"]
    keys += ["sparse_head"] if studio.get("lean_sparse_head") and trains_heads else []
    keys += ["sparse_init"] if studio.get("sparse_init") == "uniform" and trains_heads else []
    keys += ["heads_lr"] if studio.get("heads_lr_scale", 1.0) != 1.0 and trains_heads else []
    keys += ["unpadded"] if studio.get("unpadded") else []
    return keys + ["pooler", "eos", "float", "validation", "data", "progress"]


def words(keys: list[str], language: str = "en") -> list[str]:
    return [ADDITIONS[k][language] for k in keys]


# The plan's `studio` options (trainer.engine.training.train's keywords) -> the addition that tells of each.
STUDIO_OPTIONS = {"lean_sparse_head": "sparse_head", "heads_lr_scale": "heads_lr", "sparse_init": "sparse_init",
                  "unpadded": "unpadded"}
# Arguments the worker sets at run time, outside the plan's `args` (recorded in arguments.json) -> their addition.
RUN_TIME_ARGUMENTS = {"disable_tqdm": "progress"}
# Arguments of the plan that are safe only with an addition, so the plain command leaves them out (reproduce.command):
# DDP's search for parameters without a gradient may be skipped only because the pooler is frozen; the plain
# FlagEmbedding run keeps it trainable, and on several processes would fail without the search.
WORKER_ONLY_ARGUMENTS = {"ddp_find_unused_parameters": "pooler"}
