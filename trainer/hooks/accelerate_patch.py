"""accelerate: the one module global M3 Studio replaces. Written against accelerate 1.15.0 (requirements.txt);
tests/test_hooks.py checks the hook, and the hook checks what it relies on when it runs (guard.LibraryChanged).
Imports accelerate (so torch) when called: engine side (only trainer/engine/ imports this module)."""
from __future__ import annotations

from trainer.hooks.guard import lookup, require, require_source

LIBRARY = "accelerate"
WRITTEN_FOR = "1.15.0"
PRIVATE = "accelerate.utils.other.is_deepspeed_available"


# `accelerate.utils.other.is_deepspeed_available`: the name `extract_model_from_parallel` (which the Trainer calls
# to unwrap the model) asks before importing DeepSpeed (1.1-1.5 s on two CPU cores) to see whether the model is a
# DeepSpeed engine; in a run without a ZeRO config it never is. Replaced, in that module only, by a function that
# answers no. accelerate has no setting for it.
def check_deepspeed_question() -> None:
    import accelerate.utils.other as other

    unwrap = lookup(other, "extract_model_from_parallel", LIBRARY, WRITTEN_FOR)
    require(hasattr(other, "is_deepspeed_available"), LIBRARY, PRIVATE, WRITTEN_FOR,
            "accelerate.utils.other no longer has it")
    require_source(unwrap, ("if is_deepspeed_available():", "DeepSpeedEngine"), LIBRARY, PRIVATE, WRITTEN_FOR)


def skip_deepspeed_check() -> None:
    """accelerate's unwrapping stops asking for DeepSpeed (a run without a ZeRO config)."""
    check_deepspeed_question()
    import accelerate.utils.other

    accelerate.utils.other.is_deepspeed_available = lambda: False
