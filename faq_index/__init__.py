"""Faro's semantic FAQ index: load and validate FAQ files, embed, search, decide.

Knows nothing of Rasa or channels.
"""

from faq_index.encoders import Encoder, HashingEncoder, load_encoder
from faq_index.entries import FaqEntry
from faq_index.errors import EncoderError, FaqFileError, FaqIndexError, QueryFileError
from faq_index.evaluation import LabelledQuery, evaluate, load_queries
from faq_index.index import Decision, FaqIndex, Match
from faq_index.loader import load_faq_files, parse_faq_text

__all__ = [
    "Decision",
    "Encoder",
    "EncoderError",
    "FaqEntry",
    "FaqFileError",
    "FaqIndex",
    "FaqIndexError",
    "HashingEncoder",
    "LabelledQuery",
    "Match",
    "QueryFileError",
    "evaluate",
    "load_encoder",
    "load_faq_files",
    "load_queries",
    "parse_faq_text",
]
