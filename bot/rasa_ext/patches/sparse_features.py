"""Patch: two featurizers' sparse matrices joined directly, not through scipy's block builder.

Rasa 3.6 joins the sparse features of two featurizers with `scipy.sparse.hstack`,
which goes through scipy's general block-matrix builder (`bmat`), checking and
converting every block, for every message. Here two COO matrices are joined
directly into the same matrix (tests/unit/rasa_ext/test_nlu_speed.py compares them).
"""

from __future__ import annotations

from typing import Any, Dict

import numpy as np
import scipy.sparse

from bot.rasa_ext.patches.registry import Patch

TARGET = "rasa.shared.nlu.training_data.features.Features._combine_sparse_features"


def join_sparse(left: scipy.sparse.spmatrix, right: scipy.sparse.spmatrix) -> scipy.sparse.coo_matrix:
    """`scipy.sparse.hstack([left, right])` for two matrices with the same rows, without `bmat`."""
    left, right = left.tocoo(), right.tocoo()
    dtype = np.result_type(left.dtype, right.dtype)
    return scipy.sparse.coo_matrix(
        (
            np.concatenate([left.data.astype(dtype, copy=False), right.data.astype(dtype, copy=False)]),
            (np.concatenate([left.row, right.row]), np.concatenate([left.col, right.col + left.shape[1]])),
        ),
        shape=(left.shape[0], left.shape[1] + right.shape[1]),
    )


def replacements() -> Dict[str, Any]:
    """Features._combine_sparse_features with `join_sparse`."""
    from rasa.shared.nlu.training_data.features import Features

    def _combine_sparse_features(self: Features, additional_features: Features) -> None:
        if self.features.shape[0] != additional_features.features.shape[0]:
            raise ValueError(
                f"Cannot combine sparse features as sequence dimensions do not "
                f"match: {self.features.shape[0]} != {additional_features.features.shape[0]}."
            )
        self.features = join_sparse(self.features, additional_features.features)
        self._cached_fingerprint = None

    return {TARGET: _combine_sparse_features}


PATCH = Patch(
    name="sparse_features",
    targets=(TARGET,),
    why=(
        "Rasa joins two featurizers' sparse matrices through scipy's general block builder, for every message.\n"
        "Two COO matrices are joined directly into the same matrix."
    ),
    replacements=replacements,
)
