"""User text in Streamlit's Markdown: shown as the characters it is."""
import re

# Markdown's active characters: user text (run, dataset and model names, paths) is shown as the characters it
# is, never as an image, a link or formatting (a run named ![x](URL) would make every browser showing it fetch URL)
MARKDOWN = re.compile(r"([\\`*_\[\]<>!])")


class Md(str):
    """Text the app itself wrote (a text table's entry): its Markdown is meant."""


def plain(text) -> Md:
    """`text` escaped for Streamlit's Markdown: shown as typed."""
    return Md(MARKDOWN.sub(r"\\\1", str(text)))
