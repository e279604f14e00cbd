"""Every use of another library's private names (trainer/hooks/, one module per library): each hook's private name
still exists with the signature and the behaviour it was written against, so a new release that changes one fails
here (and, at run time, in the hook's own check: guard.LibraryChanged), never silently; each module's library is
pinned (requirements.txt) at the version its hooks name and the package's range stays within that release
(pyproject.toml); and no file outside trainer/hooks/ uses those names. Tiny random models on the CPU, no training."""
import argparse
import re
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from transformers import Trainer

from trainer.hooks import (accelerate_patch, argparse_actions, flagembedding_m3, guard, hf_trainer, optuna_trials,
                           plotly_figures, torch_attention, transformers_models)
from trainer.hooks.guard import LibraryChanged

ROOT = Path(__file__).resolve().parent.parent
MODULES = (accelerate_patch, argparse_actions, flagembedding_m3, hf_trainer, optuna_trials, plotly_figures,
           torch_attention, transformers_models)
TOKENIZER = SimpleNamespace(cls_token_id=0, pad_token_id=1, eos_token_id=2, unk_token_id=3, padding_side="right")


def fresh(check):
    """Run a cached check again (an earlier test or import may have run it already)."""
    check.cache_clear()
    check()


# ---- every module: its library's version, pin and range; the fence ----

def test_each_module_names_its_library_and_the_version_pinned_installed_and_admitted():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.split("#")[0].strip():
            req = Requirement(line.split("#")[0].strip())
            pins[canonicalize_name(req.name)] = next(iter(req.specifier)).version
    ranges = {canonicalize_name(Requirement(r).name): Requirement(r).specifier
              for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    found = sorted(p.stem for p in (ROOT / "trainer" / "hooks").glob("*.py") if p.stem not in ("__init__", "guard"))
    assert found == sorted(m.__name__.rsplit(".", 1)[1] for m in MODULES), "a hook module this test does not know"
    for module in MODULES:
        library, written = module.LIBRARY, Version(module.WRITTEN_FOR)
        assert f"{library} {module.WRITTEN_FOR}" in module.__doc__, module.__name__
        if library == "Python":          # the standard library: tested on the interpreter running this suite
            continue
        name = canonicalize_name(library)
        assert pins[name] == module.WRITTEN_FOR, f"{module.__name__} was written against {library} {written}"
        assert Version(Version(guard.installed(library)).public) == written, f"{library} {guard.installed(library)}"
        spec = ranges[name]
        nxt = f"{written.major}.{written.minor + 1}.0"
        assert spec.contains(str(written)) and not spec.contains(nxt), (
            f"pyproject.toml admits {library}{spec}: its hooks ({module.__name__}) are tested on {written} only")


FENCED = (r"\._maybe_log_save_evaluate\b", r"def _save\b", r"\._save\(", r"_load_from_checkpoint",
          r"_created_lr_scheduler", r"callback_handler\.on_train_end", r"_dense_embedding", r"_sparse_embedding\b",
          r"_colbert_embedding", r"\.__class__\s*=(?!=)", r"_gradient_checkpointing_func", r"import_utils",
          r"aten\._", r"torch\._dynamo", r"is_deepspeed_available", r"_trial_id", r"optuna\.trial\.Trial\(",
          r"\._validate\b", r"\._actions\b")


def test_no_file_outside_the_hooks_uses_a_fenced_private_name():
    files = [p for d in ("trainer", "app", "pages") for p in (ROOT / d).rglob("*.py")
             if "hooks" not in p.relative_to(ROOT).parts]
    found = {}
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            for pattern in FENCED:
                if re.search(pattern, code) and not re.search(r'"""|`', line):
                    found[f"{path.relative_to(ROOT)}:{number}"] = line.strip()
    assert not found, f"private names of a library outside trainer/hooks/: {found}"


def test_a_broken_hook_says_which_library_version_and_name():
    def old(a, b):
        pass

    with pytest.raises(LibraryChanged, match=r"transformers \S+ is installed; .*`Trainer.x`.* written against "
                                             r"transformers 4\.57\.6: its parameters are \(a, b\)"):
        guard.require_parameters(old, ("a", "c"), "transformers", "Trainer.x", "4.57.6")
    with pytest.raises(LibraryChanged, match="no longer contains"):
        guard.require_source(old, ("nothing_like_this(",), "transformers", "Trainer.x", "4.57.6")
    with pytest.raises(LibraryChanged, match="no longer exists"):
        guard.lookup(argparse, "no_such_name", "Python", "3.11.7")


# ---- transformers: the Trainer (hf_trainer.py) ----

class Recorded(hf_trainer.TrainerHooks, Trainer):
    def __init__(self, *args, **kwargs):
        self.calls = []
        super().__init__(*args, **kwargs)

    def after_optimizer_step(self, grad_norm, learning_rate):
        self.calls.append(("step", grad_norm, learning_rate))

    def before_save(self):
        self.calls.append(("save",))

    def load_checkpoint(self, resume_from_checkpoint, model=None):
        self.calls.append(("load", resume_from_checkpoint))


@pytest.fixture(scope="module")
def hf(tmp_path_factory):
    """A real Trainer (HF's own, the hooks mixed in) around a tiny linear model; accelerate not asked for DeepSpeed."""
    from transformers import TrainingArguments

    folder = tmp_path_factory.mktemp("hf")
    with pytest.MonkeyPatch.context() as patch:
        import accelerate.utils.other

        patch.setattr(accelerate.utils.other, "is_deepspeed_available", lambda: False)
        args = TrainingArguments(output_dir=str(folder), use_cpu=True, report_to=[], save_strategy="no",
                                 logging_strategy="no", disable_tqdm=True)
        return Recorded(model=torch.nn.Linear(2, 2), args=args)


def test_trainer_maybe_log_save_evaluate(hf):
    """HF calls it after each optimizer step with the learning rate by keyword; the hook hands both on."""
    fresh(hf_trainer.check_maybe_log_save_evaluate)
    assert guard.parameter_names(Trainer._maybe_log_save_evaluate) == list(hf_trainer.LOG_SAVE_EVALUATE)
    hf.calls.clear()
    hf._maybe_log_save_evaluate(torch.tensor(0.0), 1.5, hf.model, None, 0, None, 0.0, learning_rate=0.1)
    assert hf.calls == [("step", 1.5, 0.1)]


def test_trainer_save(hf, tmp_path):
    fresh(hf_trainer.check_save)
    hf.calls.clear()
    hf.save_model(str(tmp_path))              # the public way in: save_model -> _save
    assert hf.calls == [("save",)] and (tmp_path / "model.safetensors").is_file()


def test_trainer_load_from_checkpoint(hf):
    fresh(hf_trainer.check_load_from_checkpoint)
    hf.calls.clear()
    hf._load_from_checkpoint("some/checkpoint")
    assert hf.calls == [("load", "some/checkpoint")]


def test_trainer_hooks_check_the_base_they_are_mixed_into():
    class Old:
        def _save(self, output_dir=None):
            pass

    with pytest.raises(LibraryChanged, match="Trainer._save"):
        type("Broken", (hf_trainer.TrainerHooks, Old), {})


def test_trainer_created_lr_scheduler(hf):
    """HF's __init__ sets the flag, `create_scheduler` sets it, the training loop reads it: so does the hook."""
    fresh(hf_trainer.check_created_lr_scheduler)
    hf._created_lr_scheduler = False
    hf_trainer.mark_lr_scheduler_created(hf)
    assert hf._created_lr_scheduler is True
    with pytest.raises(LibraryChanged, match="_created_lr_scheduler"):
        hf_trainer.mark_lr_scheduler_created(SimpleNamespace())


def test_trainer_call_train_end(hf):
    from transformers import TrainerCallback

    fresh(hf_trainer.check_train_end)
    ended = []

    class Ends(TrainerCallback):
        def on_train_end(self, args, state, control, **kwargs):
            ended.append(kwargs["model"])

    hf.add_callback(Ends())
    hf_trainer.call_train_end(hf)
    assert ended == [hf.model]


# ---- transformers: import flags, gradient checkpointing, the layer layout (transformers_models.py) ----

def tiny_encoder(bert: bool = False):
    from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

    torch.manual_seed(0)
    shape = dict(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                 pad_token_id=1)
    if bert:
        return BertModel(BertConfig(**shape), add_pooling_layer=False)
    return XLMRobertaModel(XLMRobertaConfig(**shape, max_position_embeddings=40, type_vocab_size=1),
                           add_pooling_layer=False)


def test_transformers_optional_import_flags():
    from transformers.utils import import_utils

    for flag in transformers_models.OPTIONAL_IMPORTS:
        assert isinstance(getattr(import_utils, flag), bool), flag
    transformers_models.skip_optional_imports()
    assert not (import_utils.is_sklearn_available() or import_utils.is_scipy_available()
                or import_utils.is_peft_available())


def test_transformers_gradient_checkpointing_func():
    fresh(transformers_models.check_gradient_checkpointing_func)
    encoder = tiny_encoder()
    layer = encoder.encoder.layer[0]
    assert transformers_models.gradient_checkpointing_func(layer, encoder.encoder) is None
    encoder.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    func = transformers_models.gradient_checkpointing_func(layer, encoder.encoder)
    assert callable(func) and layer.gradient_checkpointing and encoder.encoder.gradient_checkpointing
    x = torch.randn(3, 16, requires_grad=True)
    func(torch.tanh, x).sum().backward()          # the function takes (function, *inputs), as unpadded calls it
    assert torch.allclose(x.grad, 1 - torch.tanh(x.detach()) ** 2)


def test_transformers_packed_layout():
    for bert in (False, True):
        transformers_models.check_packed_layout(tiny_encoder(bert))
    encoder = tiny_encoder()

    class Renamed(type(encoder)):
        pass

    encoder.__class__ = Renamed
    del encoder.encoder.layer[1].intermediate
    with pytest.raises(LibraryChanged, match="Renamed's layer layout.*intermediate"):
        transformers_models.check_packed_layout(encoder)


# ---- torch (torch_attention.py) ----

@pytest.mark.parametrize("name", ["_flash_attention_forward", "_efficient_attention_forward"])
def test_torch_varlen_attention_ops(name):
    torch_attention.check_attention_op.cache_clear()
    torch_attention.check_attention_op(name)
    schema = getattr(torch.ops.aten, name).default._schema
    positional = torch_attention.FLASH if name.startswith("_flash") else torch_attention.EFFICIENT
    assert [a.name for a in schema.arguments[:len(positional)]] == list(positional)
    if torch.cuda.is_available():                 # the kernels themselves: per-text SDPA's numbers
        from torch.nn import functional as F

        dtype = torch.bfloat16 if name.startswith("_flash") else torch.float32
        q, k, v = (torch.randn(7, 2, 8, device="cuda", dtype=dtype) for _ in range(3))
        cu = torch.tensor([0, 3, 7], device="cuda", dtype=torch.int32)
        out = (torch_attention.flash_varlen(q, k, v, cu, 4, 0.0, 8 ** -0.5) if name.startswith("_flash")
               else torch_attention.efficient_varlen(q, k, v, cu, 4, 0.0, False, 8 ** -0.5))
        want = torch.cat([F.scaled_dot_product_attention(*(t[a:b].transpose(0, 1)[None] for t in (q, k, v)))[0]
                          .transpose(0, 1) for a, b in ((0, 3), (3, 7))])
        assert torch.allclose(out.float(), want.float(), atol=2e-2)


def test_torch_dynamo_cache_limits():
    import torch._dynamo

    config = torch._dynamo.config
    before = {name: getattr(config, name) for name in torch_attention.DYNAMO_LIMITS}
    try:
        torch_attention.raise_dynamo_cache_limits(1, 1)           # never lowered
        assert {name: getattr(config, name) for name in before} == before
        torch_attention.raise_dynamo_cache_limits(10_001, 10_002)
        assert (config.cache_size_limit, config.accumulated_cache_size_limit) == (10_001, 10_002)
    finally:
        for name, value in before.items():
            setattr(config, name, value)


# ---- FlagEmbedding (flagembedding_m3.py) ----

def tiny_m3():
    from FlagEmbedding.finetune.embedder.encoder_only.m3.modeling import EncoderOnlyEmbedderM3Model

    model = EncoderOnlyEmbedderM3Model({"model": tiny_encoder(), "colbert_linear": torch.nn.Linear(16, 16),
                                        "sparse_linear": torch.nn.Linear(16, 1)}, tokenizer=TOKENIZER,
                                       sentence_pooling_method="cls", normalize_embeddings=False,
                                       unified_finetuning=True)
    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 2, 1, 1]])
    features = {"input_ids": ids, "attention_mask": (ids != 1).long()}
    return model.eval(), features


def encoded(model, features):
    with torch.no_grad():
        return model.model(**features, return_dict=True).last_hidden_state


@pytest.mark.parametrize("head", ["dense", "sparse", "colbert"])
def test_flagembedding_head_methods(head):
    """Each hook gives what FlagEmbedding's own encoding gives for that head."""
    fresh(getattr(flagembedding_m3, f"check_{head}_embedding"))
    model, features = tiny_m3()
    hidden = encoded(model, features)
    with torch.no_grad():
        want = model._encode(features)[("dense", "sparse", "colbert").index(head)]
        got = getattr(flagembedding_m3, f"{head}_embedding")(
            model, hidden, features["input_ids" if head == "sparse" else "attention_mask"])
    assert torch.equal(got, want)


def test_flagembedding_sparse_embedding_override():
    """A subclass's `sparse_embedding` is what FlagEmbedding's encoding calls for the sparse head."""
    class Doubled(flagembedding_m3.SparseEmbeddingOverride):
        def sparse_embedding(self, hidden_state, input_ids, return_embedding=True):
            return 2 * super().sparse_embedding(hidden_state, input_ids, return_embedding)

    model, features = tiny_m3()
    with torch.no_grad():
        stock = model._encode(features)[1]
        flagembedding_m3.switch_class(model, Doubled)
        assert torch.equal(model._encode(features)[1], 2 * stock)


def test_flagembedding_switch_class():
    fresh(flagembedding_m3.check_switch_class)
    model, features = tiny_m3()

    class Own(flagembedding_m3.SparseEmbeddingOverride):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)

    assert flagembedding_m3.switch_class(model, flagembedding_m3.SparseEmbeddingOverride) is model
    assert type(model) is flagembedding_m3.SparseEmbeddingOverride and model.sparse_linear is not None
    with pytest.raises(LibraryChanged, match="an __init__ of its own"):
        flagembedding_m3.switch_class(model, Own)
    with pytest.raises(LibraryChanged, match="not a subclass"):
        flagembedding_m3.switch_class(torch.nn.Linear(2, 2), flagembedding_m3.SparseEmbeddingOverride)


# ---- accelerate (accelerate_patch.py) ----

def test_accelerate_deepspeed_question(monkeypatch):
    import accelerate.utils.other as other

    accelerate_patch.check_deepspeed_question()
    monkeypatch.setattr(other, "is_deepspeed_available", other.is_deepspeed_available)   # put back afterwards
    accelerate_patch.skip_deepspeed_check()
    assert other.is_deepspeed_available() is False
    model = torch.nn.Linear(2, 2)
    assert other.extract_model_from_parallel(model) is model


# ---- optuna (optuna_trials.py) ----

def test_optuna_live_trial_of_an_existing_trial():
    import optuna

    fresh(optuna_trials.check_trial)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    study.ask()
    frozen = study.get_trials(deepcopy=False)[0]
    trial = optuna_trials.live_trial(study, frozen)
    trial.report(0.5, 1)
    trial.set_user_attr("pruned_at", 7)
    assert trial.number == frozen.number and not trial.should_prune()
    stored = study.get_trials()[0]
    assert stored.intermediate_values == {1: 0.5} and stored.user_attrs == {"pruned_at": 7}
    with pytest.raises(LibraryChanged, match="FrozenTrial._trial_id"):
        optuna_trials.live_trial(study, SimpleNamespace(number=0))


# ---- plotly (plotly_figures.py) ----

def test_plotly_template_set_without_validation(monkeypatch):
    import plotly.graph_objects as go
    import plotly.io as pio
    from plotly.basedatatypes import BasePlotlyType

    fresh(plotly_figures.check_validate)
    template = pio.templates["plotly_white"]
    fig = go.Figure()
    validated = []                               # the validating branch of __setitem__ sets a compound property so
    original = BasePlotlyType._set_compound_prop
    monkeypatch.setattr(BasePlotlyType, "_set_compound_prop", lambda self, prop, value: validated.append(prop) or
                        original(self, prop, value))
    plotly_figures.set_template_unvalidated(fig.layout, template)
    assert "template" not in validated and fig.layout._validate is True
    assert fig.layout.template == template
    fig.layout.template = template               # the flag on again: validated as usual
    assert "template" in validated


# ---- argparse (argparse_actions.py) ----

def test_argparse_action_by_dest():
    parser = argparse.ArgumentParser(prog="x")
    parser.add_argument("--mode", help="the MODE-HELP")
    parser.add_argument("--other")
    argparse_actions.action(parser, "mode").help = argparse.SUPPRESS
    assert "MODE-HELP" not in parser.format_help() and "--mode" not in parser.format_help()
    assert argparse_actions.action(parser, "other").option_strings == ["--other"]
    with pytest.raises(KeyError):
        argparse_actions.action(parser, "missing")
    with pytest.raises(LibraryChanged, match="ArgumentParser._actions"):
        argparse_actions.action(SimpleNamespace(), "mode")

