"""Try it: one query, the base model and a fine-tuned run side by side on the validation corpus."""
from pathlib import Path

import pandas as pd
import streamlit as st

from app.search_client import SearchClient
from app.tryit_view import highlight, rank_change
from app.ui import get_store, mode_name, t
from trainer.data import load_eval, resolve_eval
from trainer.models import model_dir, run_pooling

store = get_store()
st.title(t("tryit.title"))


@st.cache_resource
def client(runs_dir: str) -> SearchClient:
    return SearchClient(Path(runs_dir) / "search_server.log")


runs = [r for r in store.list_runs() if (Path(r.output_dir) / "model" / "config.json").is_file()
        and r.config.eval_data]
if not runs:
    st.info(t("tryit.no_runs"))
    st.stop()
names = {r.id: f"{r.name} · {mode_name(r.mode)} · {r.id}" for r in runs}
run_id = st.selectbox(t("tryit.run"), list(names), format_func=names.get, key="tryit_run")
run = next(r for r in runs if r.id == run_id)
cfg = run.config
corpus = resolve_eval(cfg.eval_data)
evalset = load_eval(corpus)

source = st.radio(t("tryit.source"), ["pick", "type"], horizontal=True, key="tryit_source",
                  format_func=lambda s: t(f"tryit.source.{s}"))
query_index = None
if source == "pick":
    query_index = st.selectbox(t("tryit.pick"), range(len(evalset.queries)), key="tryit_pick",
                               format_func=lambda i: evalset.queries[i])
    query = evalset.queries[query_index]
else:
    query = st.text_input(t("tryit.query"), key="tryit_query").strip()
if not query:
    st.stop()

base_dir = str(model_dir(cfg.model) or cfg.model)   # a hub id: its snapshot in the Hugging Face cache
common = dict(pooling=run_pooling(cfg), unified=cfg.mode.unified_finetuning, corpus=str(corpus), query=query,
              query_index=query_index, seed=cfg.seed, query_max_len=cfg.query_max_len,
              passage_max_len=cfg.passage_max_len)
search = client(str(store.runs_dir))
with st.spinner(t("tryit.searching")):
    answers = {"base": search.ask(dict(common, model_dir=base_dir)),
               "tuned": search.ask(dict(common, model_dir=str(Path(run.output_dir) / "model")))}
for side, answer in answers.items():
    if "error" in answer:
        st.error(f"{t(f'tryit.{side}')}: {answer['error']}")
        st.stop()

if query_index is not None:
    base_ranks, tuned_ranks = answers["base"]["relevant_rank"], answers["tuned"]["relevant_rank"]
    st.markdown("**" + t("tryit.right_passage") + "** " + " · ".join(
        f"{t(f'head.{h}')}: {rank_change(base_ranks.get(h), tuned_ranks.get(h))[0]}" for h in tuned_ranks))
if cfg.mode.unified_finetuning and not (Path(base_dir) / "sparse_linear.pt").is_file():
    st.caption(t("tryit.random_heads"))

if "query_tokens" in answers["tuned"]:
    st.markdown(t("tryit.query_weights"))
    cols = st.columns(2)
    for col, side in zip(cols, answers):
        if "query_tokens" in answers[side]:
            col.markdown(highlight(answers[side]["query_tokens"]), unsafe_allow_html=True)

relevant = evalset.relevance[query_index] if query_index is not None else {}
for col, side in zip(st.columns(2), answers):
    answer = answers[side]
    col.subheader(t(f"tryit.{side}"))
    col.caption(t("tryit.seconds", s=answer["seconds"], main=t(f"head.{answer['main']}")))
    for rank, hit in enumerate(answer["top"], start=1):
        mark = f" · :green[{t('tryit.relevant')}]" if relevant.get(hit["doc"], 0) > 0 else ""
        box = col.container(border=True, key=f"hit_{side}_{rank}")
        box.markdown(f"**{rank}. {hit['id']}**{mark}")
        tokens = answer.get("doc_tokens", {}).get(str(hit["doc"]))
        box.markdown(highlight(tokens) if tokens else hit["text"][:600], unsafe_allow_html=bool(tokens))
        box.dataframe(pd.DataFrame([{t(f"head.{h}"): round(v, 4) for h, v in hit["scores"].items()}]),
                      hide_index=True, key=f"scores_{side}_{rank}")
