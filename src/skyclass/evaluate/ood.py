"""Unknown-class (out-of-distribution) scores and a threshold chosen on validation data.

A classifier trained on K classes must still say something about an object of
a class it never saw. ``OODScorer`` turns (calibrated) probabilities into one
score per object — larger means less like any known class — and picks the
threshold on *validation* objects of the known classes so that a chosen share
of them (``known_rate``, default 5%) would be flagged. Objects above the
threshold are reported as ``unknown``; nothing is removed.

Scores (``METHODS``):

- ``max_softmax``: 1 − max_k p_k (Hendrycks & Gimpel 2017);
- ``entropy``: the Shannon entropy of p divided by log K (0 = certain, 1 = uniform);
- ``mahalanobis``: the smallest Mahalanobis distance² of the object's embedding
  (the input of the network's output layer) to a class mean of the *training*
  objects, with one covariance shared by the classes (Lee et al. 2018). It sees
  an object that is far from every class even where the softmax is confident,
  which a probability-based score cannot;
- ``combined``: the larger of ``max_softmax`` and ``mahalanobis``, each divided
  by its own validation quantile, so an object odd by either measure stands
  out (the two catch different unknown classes).

Examples
--------
>>> rng = np.random.default_rng(0)
>>> known = rng.dirichlet([8, 1, 1], 500)          # confident validation objects
>>> scorer = OODScorer(method="max_softmax").fit(known)
>>> strange = rng.dirichlet([1, 1, 1], 500)        # nothing stands out
>>> bool(scorer.flag(strange).mean() > 3 * scorer.flag(known).mean())
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skyclass.exceptions import NotFittedError

__all__ = ["EMBEDDING_METHODS", "METHODS", "OODScorer"]


def _max_softmax(proba: np.ndarray) -> np.ndarray:
    return 1.0 - proba.max(axis=1)


def _entropy(proba: np.ndarray) -> np.ndarray:
    p = np.clip(proba, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1) / np.log(max(proba.shape[1], 2))


#: Score functions by name: probabilities (N, K) -> score (N,), larger = less known.
METHODS = {"max_softmax": _max_softmax, "entropy": _entropy, "mahalanobis": None, "combined": None}
#: Scores that read embeddings as well as probabilities.
EMBEDDING_METHODS = frozenset({"mahalanobis", "combined"})


class OODScorer:
    """Score objects for "fits no known class" and flag them above a validation threshold.

    Parameters
    ----------
    method : {"max_softmax", "entropy"}
    known_rate : float
        Share of validation (known-class) objects the threshold flags.
    """

    def __init__(self, *, method: str = "max_softmax", known_rate: float = 0.05):
        if method not in METHODS:
            raise ValueError(f"unknown OOD score {method!r}; choose one of {sorted(METHODS)}")
        if not 0 < known_rate < 1:
            raise ValueError(f"known_rate must lie in (0, 1), got {known_rate}")
        self.method = method
        self.known_rate = known_rate

    @property
    def needs_embedding(self) -> bool:
        """Whether :meth:`score` reads embeddings (``mahalanobis``) rather than probabilities."""
        return self.method in EMBEDDING_METHODS

    def score(self, proba: np.ndarray, embedding: np.ndarray | None = None) -> np.ndarray:
        """One score per row; NaN where the row is not finite (object not represented)."""
        proba = np.asarray(proba, dtype=np.float64)
        out = np.full(len(proba), np.nan)
        ok = np.isfinite(proba).all(axis=1)
        if self.needs_embedding:
            if embedding is None:
                raise ValueError(f"the {self.method!r} score needs the objects' embeddings")
            embedding = np.asarray(embedding, dtype=np.float64)
            ok &= np.isfinite(embedding).all(axis=1)
            if ok.any():
                out[ok] = self._mahalanobis(embedding[ok])
                if self.method == "combined":
                    softmax = _max_softmax(proba[ok]) / self.scales_[0]
                    out[ok] = np.maximum(softmax, out[ok] / self.scales_[1])
        elif ok.any():
            out[ok] = METHODS[self.method](proba[ok])
        return out

    def _mahalanobis(self, embedding: np.ndarray) -> np.ndarray:
        if not hasattr(self, "means_"):
            raise NotFittedError("this OODScorer is not fitted yet; call fit() first")
        diff = embedding[:, None, :] - self.means_[None, :, :]  # (N, K, D)
        return np.einsum("nkd,de,nke->nk", diff, self.precision_, diff).min(axis=1)

    def fit(
        self,
        proba: np.ndarray,
        *,
        embedding: np.ndarray | None = None,
        train_embedding: np.ndarray | None = None,
        train_y: np.ndarray | None = None,
    ) -> OODScorer:
        """Choose the threshold on validation objects of the known classes.

        Parameters
        ----------
        proba : array (N, K)
            Validation probabilities.
        embedding : array (N, D), optional
            Validation embeddings (``mahalanobis``).
        train_embedding, train_y : optional
            Training embeddings and class indices: the class means and the shared
            covariance of ``mahalanobis`` (never the validation objects').
        """
        if self.needs_embedding:
            if train_embedding is None or train_y is None or embedding is None:
                raise ValueError(
                    f"the {self.method!r} score needs training embeddings and classes "
                    "(train_embedding=, train_y=) and validation embeddings (embedding=)"
                )
            x = np.asarray(train_embedding, dtype=np.float64)
            y = np.asarray(train_y)
            classes = np.unique(y)
            means = np.stack([x[y == k].mean(axis=0) for k in classes])
            centred = x - means[np.searchsorted(classes, y)]
            cov = centred.T @ centred / max(len(x) - len(classes), 1)
            ridge = 1e-6 * max(float(np.trace(cov)) / cov.shape[0], 1e-12)
            self.means_ = means
            self.precision_ = np.linalg.pinv(cov + ridge * np.eye(cov.shape[0]), hermitian=True)
        if self.method == "combined":
            ok = np.isfinite(proba).all(axis=1) & np.isfinite(embedding).all(axis=1)
            q = 1.0 - self.known_rate
            self.scales_ = (
                max(float(np.quantile(_max_softmax(proba[ok]), q)), 1e-12),
                max(float(np.quantile(self._mahalanobis(embedding[ok]), q)), 1e-12),
            )
        scores = self.score(proba, embedding)
        scores = scores[np.isfinite(scores)]
        if scores.size == 0:
            raise ValueError("no finite validation probabilities to choose a threshold on")
        self.threshold_ = float(np.quantile(scores, 1.0 - self.known_rate))
        return self

    def flag(self, proba: np.ndarray, embedding: np.ndarray | None = None) -> np.ndarray:
        """True where the score exceeds the threshold (False for non-finite rows)."""
        if not hasattr(self, "threshold_"):
            raise NotFittedError("this OODScorer is not fitted yet; call fit() first")
        scores = self.score(proba, embedding)
        return np.isfinite(scores) & (scores > self.threshold_)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able parameters, for a saved model directory."""
        if not hasattr(self, "threshold_"):
            raise NotFittedError("this OODScorer is not fitted yet; call fit() first")
        out = {"method": self.method, "known_rate": self.known_rate, "threshold": self.threshold_}
        if self.needs_embedding:
            out["means"] = self.means_.tolist()
            out["precision"] = self.precision_.tolist()
        if self.method == "combined":
            out["scales"] = list(self.scales_)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OODScorer:
        """Rebuild from :meth:`to_dict`."""
        scorer = cls(method=data["method"], known_rate=data["known_rate"])
        scorer.threshold_ = float(data["threshold"])
        if scorer.needs_embedding:
            scorer.means_ = np.asarray(data["means"], dtype=np.float64)
            scorer.precision_ = np.asarray(data["precision"], dtype=np.float64)
        if scorer.method == "combined":
            scorer.scales_ = tuple(float(x) for x in data["scales"])
        return scorer
