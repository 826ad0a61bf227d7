"""Patch: the count-vector featurizers build their matrices directly, not through sklearn's `transform`.

The count-vector featurizers build each count matrix through sklearn's
`transform` (a CSR matrix, its indices sorted, converted to COO), four times a
message, each with its checks. Here the same COO matrix is built directly from
the vectorizer's own analyzer and vocabulary (tests/unit/rasa_ext/test_nlu_speed.py compares
them to the index).
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import scipy.sparse

from bot.rasa_ext.patches.registry import Patch

TARGET = "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer.CountVectorsFeaturizer._create_features"

_ANALYZERS: "weakref.WeakKeyDictionary[Any, Callable[[str], List[str]]]" = weakref.WeakKeyDictionary()


def count_matrix(vectorizer: Any, documents: Sequence[str]) -> scipy.sparse.coo_matrix:
    """`vectorizer.transform(documents)` with sorted indices, as COO, built directly.

    As sklearn's CountVectorizer: each document's features by its analyzer,
    those in the vocabulary counted (or marked, when binary), a row per
    document with its columns in order, 32-bit indices, the vectorizer's dtype.
    """
    analyze = _ANALYZERS.get(vectorizer)
    if analyze is None:
        analyze = _ANALYZERS[vectorizer] = vectorizer.build_analyzer()
    vocabulary = vectorizer.vocabulary_
    rows: List[int] = []
    columns: List[int] = []
    values: List[int] = []
    for row, document in enumerate(documents):
        counts: Dict[int, int] = {}
        for feature in analyze(document):
            column = vocabulary.get(feature)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        for column in sorted(counts):
            rows.append(row)
            columns.append(column)
            values.append(1 if vectorizer.binary else counts[column])
    return scipy.sparse.coo_matrix(
        (
            np.asarray(values, dtype=vectorizer.dtype),
            (np.asarray(rows, dtype=np.int32), np.asarray(columns, dtype=np.int32)),
        ),
        shape=(len(documents), len(vocabulary)),
        dtype=vectorizer.dtype,
    )


def replacements() -> Dict[str, Any]:
    """CountVectorsFeaturizer._create_features with `count_matrix`, for fitted vectorizers."""
    from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
        CountVectorsFeaturizer,
    )

    create_features = CountVectorsFeaturizer._create_features

    def _create_features(self: CountVectorsFeaturizer, attribute: str, all_tokens: List[List[str]]) -> Any:
        vectorizer = self.vectorizers.get(attribute)
        if not vectorizer or getattr(vectorizer, "vocabulary_", None) is None:
            return create_features(self, attribute, all_tokens)  # Rasa's answer (or sklearn's error)
        sequence_features: List[Optional[scipy.sparse.spmatrix]] = []
        sentence_features: List[Optional[scipy.sparse.spmatrix]] = []
        for tokens in all_tokens:
            if not tokens:
                sequence_features.append(None)
                sentence_features.append(None)
                continue
            sequence_features.append(count_matrix(vectorizer, tokens))
            sentence_features.append(
                count_matrix(vectorizer, [" ".join(tokens)]) if attribute in DENSE_FEATURIZABLE_ATTRIBUTES else None
            )
        return sequence_features, sentence_features

    return {TARGET: _create_features}


PATCH = Patch(
    name="count_features",
    targets=(TARGET,),
    why=(
        "Rasa builds each count matrix through sklearn's `transform`, four times a message, each with its checks.\n"
        "The same COO matrix is built directly from the vectorizer's analyzer and vocabulary."
    ),
    replacements=replacements,
)
