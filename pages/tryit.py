"""Try it: one query, the base model and a fine-tuned run side by side on the validation corpus."""
from pathlib import Path

import pandas as pd
import streamlit as st

from app.search_client import SearchClient
from app.story import change_words, chosen_run, differs, headline, remember, run_headline, sentence, validations
from app.tryit_view import arrow, heaviest, highlight, rank_change
from app.markdown import plain
from app.ui import get_store, lang_key, mode_name, status_name, t
from trainer.store import query_ranks
from trainer.core import verdict
from trainer.data import load_eval
from trainer.core.model_source import SPARSE_HEAD, model_dir, run_pooling
from trainer.store import COMPLETED

store = get_store()
st.title(t("tryit.title"))


@st.cache_resource
def client(runs_dir: str) -> SearchClient:
    return SearchClient(Path(runs_dir) / "search_server.log")


# Every run with a saved model and a validation set (its own split, the demo's or a folder), any status.
runs = [r for r in store.list_runs() if r.folder.has_model()
        and (v := r.folder.validation(r.config.eval_data)) is not None and v.is_dir()]
if not runs:
    st.info(t("tryit.no_runs"))
    st.stop()


names = {r.id: f"{r.name} · {mode_name(r.mode)} · {status_name(r.status)}" for r in runs}
ids = list(names)
# The run picked in this session, else the newest completed run (runs come newest first), else the newest: a
# run that completes later wins over the one shown before, unless the user picked that one
key = lang_key("tryit_run", carry=False)
chosen = chosen_run(ids, next((r.id for r in runs if r.status == COMPLETED), ids[0]), key, "tryit_picked")
run_id = st.selectbox(t("tryit.run"), ids, index=ids.index(chosen), format_func=names.get, key=key,
                      on_change=remember(key, "tryit_picked"))
run = next(r for r in runs if r.id == run_id)
cfg = run.config
corpus = run.folder.validation(cfg.eval_data)
evalset = load_eval(corpus)
lead = run_headline(run)
if lead is not None:           # the run's one story: its held-out test where it has one, and why validation differs
    st.markdown(sentence(lead))
    if note := differs(lead):
        st.caption(note)
headline(run)

source = st.radio(t("tryit.source"), ["pick", "type"], horizontal=True, key=lang_key("tryit_source"),
                  format_func=lambda s: t(f"tryit.source.{s}"))
query_index = None
if source == "pick":
    # The queries whose right passage moved most in MRR@10 terms come first (4 → 1 before 18 → 9: a move the top
    # results show), up or down alike (improvements first would read as a gain the verdict may not see); then
    # the unchanged. The verdict over all of them is said next to it.
    moved = query_ranks.moves(validations(run), cfg.mode.main_head)
    if len(moved) != len(evalset.queries):
        moved = [(None, None)] * len(evalset.queries)
    changes = [rank_change(b, a) for b, a in moved]
    rr = lambda rank: 1 / rank if rank and rank <= 10 else 0.0  # noqa: E731
    order = sorted(range(len(evalset.queries)), key=lambda i: (
        changes[i][1] == 0, -abs(rr(moved[i][1]) - rr(moved[i][0])), -abs(changes[i][1])))
    st.caption(t("tryit.sorted", head=t(f"head.{cfg.mode.main_head}")))
    overall = verdict.first_last(validations(run), cfg.mode.main_head)
    if overall is not None:
        st.caption(t("tryit.overall", questions=t("questions.validation", n=overall.questions),
                     change=change_words(overall)))
    query_index = st.selectbox(t("tryit.pick"), order, key=f"tryit_pick_{run_id}",
                               format_func=lambda i: f"{changes[i][0]} · {evalset.queries[i]}")
    query = evalset.queries[query_index]
else:
    query = st.text_input(t("tryit.query"), key="tryit_query").strip()
if not query:
    st.stop()

def moved_from(base_top: list, doc, rank: int) -> str:
    """'▲3 (base: #5)', '=' or 'new in the top k' for a fine-tuned result."""
    if doc not in base_top:
        return t("tryit.move.new", k=len(base_top))
    before = base_top.index(doc) + 1
    return "=" if before == rank else t("tryit.move.from", arrow=arrow(before - rank), before=before)


base_dir = str(model_dir(cfg.model) or cfg.model)   # a hub id: its snapshot in the Hugging Face cache
common = dict(pooling=run_pooling(cfg), unified=cfg.mode.unified_finetuning, corpus=str(corpus), query=query,
              query_index=query_index, seed=cfg.seed, query_max_len=cfg.query_max_len,
              passage_max_len=cfg.passage_max_len)
search = client(str(store.runs_dir))
with st.spinner(t("tryit.searching")):
    answers = {"base": search.ask(dict(common, model_dir=base_dir)),
               "tuned": search.ask(dict(common, model_dir=str(run.folder.model)))}
for side, answer in answers.items():
    if "error" in answer:
        st.error(f"{t(f'tryit.{side}')}: {plain(answer['error'])}")
        st.stop()

if query_index is not None:
    base_ranks, tuned_ranks = answers["base"]["relevant_rank"], answers["tuned"]["relevant_rank"]
    st.markdown("**" + t("tryit.right_passage") + "** " + " · ".join(
        f"{t(f'head.{h}')}: {rank_change(base_ranks.get(h), tuned_ranks.get(h))[0]}" for h in tuned_ranks))
base_top, tuned_top = ([hit["doc"] for hit in answers[side]["top"]] for side in ("base", "tuned"))
if query_index is None:    # no right passage is known for a typed query: say how the results moved
    same = set(base_top) & set(tuned_top)
    st.markdown(t("tryit.typed_change", same=len(same), k=len(tuned_top),
                  moved=sum(base_top.index(d) != tuned_top.index(d) for d in same),
                  first=t("tryit.first_same") if base_top[:1] == tuned_top[:1] else t("tryit.first_changed")))
if cfg.mode.unified_finetuning and not (Path(base_dir) / SPARSE_HEAD).is_file():
    st.caption(t("tryit.random_heads"))

if "query_tokens" in answers["tuned"]:
    st.markdown(t("tryit.query_weights"))
    for col, side in zip(st.columns(2), answers):
        spans = answers[side].get("query_tokens")
        if spans is not None:
            col.markdown(f"{t(f'tryit.{side}')}: {highlight(query, spans)}", unsafe_allow_html=True)
            top = heaviest(query, spans)
            col.caption(t("tryit.heaviest") + " " + " · ".join(f"{w} {v:.2f}" for w, v in top) if top
                        else t("tryit.no_weights"))

relevant = evalset.relevance[query_index] if query_index is not None else {}
for col, side in zip(st.columns(2), answers):
    answer = answers[side]
    col.subheader(t(f"tryit.{side}"))
    col.caption(t("tryit.seconds", s=answer["seconds"], main=t(f"head.{answer['main']}")))
    if side == "tuned" and answer.get("doc_tokens"):
        col.caption(t("tryit.passage_legend"))
    for rank, hit in enumerate(answer["top"], start=1):
        mark = f" · :blue-badge[✓ {t('tryit.relevant')}]" if relevant.get(hit["doc"], 0) > 0 else ""   # no green: no verdict
        if side == "tuned":        # where the base model had this passage
            mark += " · " + moved_from(base_top, hit["doc"], rank)
        box = col.container(border=True, key=f"hit_{side}_{rank}")
        box.markdown(f"**{rank}. {plain(hit['id'])}**{mark}")
        spans = answer.get("doc_tokens", {}).get(str(hit["doc"]), [])
        box.markdown(highlight(hit["text"], spans), unsafe_allow_html=True)
        box.dataframe(pd.DataFrame([{t("tryit.score", head=t(f"head.{h}")): round(v, 3) for h, v in hit["scores"].items()}]),
                      hide_index=True, key=f"scores_{side}_{rank}")
