"""Secrets stay out of everything a run writes or a page shows: the environment's tokens and keys are taken out
of the children's environment (a worker gets the hub token under its own name, used only to download), and any
text or JSON that could still carry one is redacted before it is written or shown."""
from __future__ import annotations

import os
import re

# Variables whose value is a credential: by name (…TOKEN, …KEY, …SECRET, …PASSWORD, …CREDENTIALS).
SECRET_NAME = re.compile(r"(TOKEN|API_?KEY|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$", re.I)
HUB_TOKEN_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACE_HUB_TOKEN", "HF_API_TOKEN")
WORKER_HUB_TOKEN = "M3_HUB_TOKEN"        # the one name a worker reads it under (trainer.engine.worker pops it)
# A Hugging Face token's shape, for text a secret reached by another way than the environment
HF_TOKEN_SHAPE = re.compile(r"hf_[A-Za-z0-9]{20,}")
MASK = "***"
# Keys a JSON of arguments may hold a credential under (FlagEmbedding's ModelArgs.token, HF's hub_token, …)
SECRET_KEYS = re.compile(r"(^|_)(token|password|secret|api_key)$", re.I)


def secret_vars(env=os.environ) -> dict[str, str]:
    return {k: v for k, v in env.items() if SECRET_NAME.search(k) and v}


def child_env(env: dict[str, str], hub_token: bool = False) -> dict[str, str]:
    """`env` without its secrets; with `hub_token`, the hub token (if any) under WORKER_HUB_TOKEN only."""
    token = next((env[k] for k in HUB_TOKEN_VARS if env.get(k)), None)
    secret = secret_vars(env)
    clean = {k: v for k, v in env.items() if k not in secret}
    if hub_token and token:
        clean[WORKER_HUB_TOKEN] = token
    return clean


def redact(text: str, env=os.environ) -> str:
    """`text` with the environment's secret values and anything shaped like a hub token masked."""
    for value in sorted({v for v in secret_vars(env).values() if len(v) >= 8}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return HF_TOKEN_SHAPE.sub("hf_" + MASK, text)


def redact_json(value, env=os.environ):
    """A JSON-like value with credential keys emptied and every string redacted."""
    if isinstance(value, dict):
        return {k: (None if SECRET_KEYS.search(str(k)) and v else redact_json(v, env)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v, env) for v in value]
    return redact(value, env) if isinstance(value, str) else value
