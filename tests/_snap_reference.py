"""The nearest-segment search of ``snap`` before the compiled grid (commit 61176b4).

Kept as the reference the new search must agree with, segment for segment: a k-d tree
(scipy ``cKDTree``) of sample points along the segments, asked for 8 then 32 samples per
point and, for the last unsure ones, every sample within a proven radius. Not collected by
pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class KDTreeSegments:
    """The straight segments of every edge, indexed for exact nearest-segment queries.

    The index is a k-d tree (scipy ``cKDTree``) of sample points: every segment is cut into
    pieces at most ``spacing`` long and each piece's midpoint is a sample, so every point of a
    segment lies within ``spacing / 2`` of one of its samples (the bound is widened by 1 um
    against rounding). For a query point, the segments of its ``k`` nearest samples are
    candidates and the nearest of them (numpy projection) is at ``d``. Any segment nearer
    than ``d`` would have a sample within ``d + spacing / 2``; when the ``k``-th sample is
    farther than that, no segment was missed and the answer is exact. The few points where it
    is not (far from the streets, many samples about as near) are asked again with more
    samples, and the last few for every sample within ``d + spacing / 2``. Exact ties go to
    the lowest segment. Cheaper than GEOS' nearest search per point (an STRtree of the
    segments is built only to measure the few far points an error message names), and
    smaller in memory than shapely segments.
    """

    start: np.ndarray  # (k, 2) first point of each segment
    vector: np.ndarray  # (k, 2) segment end minus start
    offset: np.ndarray  # drawn length along the edge up to the segment's start
    edge: np.ndarray  # edge position of each segment
    edge_length: np.ndarray  # drawn (projected) length of each edge
    spacing: float  # largest gap between samples along a segment
    samples: cKDTree  # sample points along the segments
    sample_segment: np.ndarray  # segment of each sample
    passes: tuple[int, ...] = (8, 32)  # samples asked per point, then of the unsure

    @classmethod
    def of(cls, geometry: np.ndarray, *, spacing: float | None = None) -> KDTreeSegments:
        """The segments of shapely lines (by position in ``geometry``)."""
        coords, idx = shapely.get_coordinates(geometry, return_index=True)
        return cls.from_coords(coords, idx, len(geometry), spacing=spacing)

    @classmethod
    def from_coords(
        cls, coords: np.ndarray, idx: np.ndarray, n_lines: int, *, spacing: float | None = None
    ) -> KDTreeSegments:
        """The segments of lines given as coordinates and the line of each (ascending)."""
        same = idx[1:] == idx[:-1]
        a, b = coords[:-1][same], coords[1:][same]
        edge = idx[:-1][same]
        vec = b - a
        seg_len = np.hypot(vec[:, 0], vec[:, 1])
        cum = np.cumsum(seg_len) - seg_len
        first = np.searchsorted(edge, np.arange(n_lines))
        first = np.minimum(first, max(len(edge) - 1, 0))
        offset = cum - cum[first[edge]]
        edge_length = np.bincount(edge, weights=seg_len, minlength=n_lines)
        # samples about one typical segment apart (5-50 m): few per segment, small tree
        if spacing is None:
            spacing = float(np.clip(np.median(seg_len), 5.0, 50.0)) if len(seg_len) else 5.0
        # samples are the midpoints of pieces at most `spacing` long: every point of a
        # segment lies within spacing / 2 of one, and (unlike sampling the piece ends) no two
        # segments meeting at a junction put a sample on the same spot
        n_pieces = np.maximum(np.ceil(seg_len / spacing), 1).astype(np.int64)
        pos, grp = ranges(np.zeros(len(a), dtype=np.int64), n_pieces)
        frac = (pos + 0.5) / n_pieces[grp]
        pts = a[grp] + frac[:, None] * vec[grp]
        index_dtype = np.int32 if len(a) < 2**31 else np.int64
        return cls(
            start=a,
            vector=vec,
            offset=offset,
            edge=edge.astype(index_dtype),
            edge_length=edge_length,
            spacing=spacing,
            samples=cKDTree(pts, balanced_tree=False),
            sample_segment=grp.astype(index_dtype),
        )

    def distance(self, xy: np.ndarray, seg: np.ndarray) -> np.ndarray:
        """Distance from each point to a segment (broadcasting ``xy[:, None]`` over ``seg``)."""
        dx, dy = self.vector[seg, 0], self.vector[seg, 1]
        rx, ry = xy[..., 0] - self.start[seg, 0], xy[..., 1] - self.start[seg, 1]
        dd = dx * dx + dy * dy
        t = np.divide(rx * dx + ry * dy, dd, out=np.zeros(rx.shape), where=dd > 0)
        np.clip(t, 0.0, 1.0, out=t)
        rx -= t * dx
        ry -= t * dy
        return np.sqrt(rx * rx + ry * ry)

    def nearest(self, xy: np.ndarray, max_distance: float) -> np.ndarray:
        """The nearest segment of each point, exactly, where it is at most ``max_distance``
        away; -1 where every segment is farther.

        On a large tree the points are asked in Z order (Morton code), so that consecutive
        queries walk the same branches (about 2x faster on 400,000 samples than random
        order; the answer does not depend on the order). They go in chunks of 65,536, so
        the candidate arrays (points x samples asked) stay small however many points come."""
        xy = np.asarray(xy, dtype=float)
        if len(xy) <= _SORT_MIN or len(self.sample_segment) <= _SORT_MIN_SAMPLES:
            return self._nearest(xy, max_distance)  # small tree: it stays in cache anyway
        order = np.argsort(_morton(xy), kind="stable")
        seg = np.empty(len(xy), dtype=np.int64)
        for i in range(0, len(xy), _CHUNK):
            part = order[i : i + _CHUNK]
            seg[part] = self._nearest(xy[part], max_distance)
        return seg

    def _nearest(self, xy: np.ndarray, max_distance: float) -> np.ndarray:
        if len(xy) > _CHUNK:
            return np.concatenate(
                [self._nearest(xy[i : i + _CHUNK], max_distance) for i in range(0, len(xy), _CHUNK)]
            )
        n = len(xy)
        seg = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.inf)
        half = self.spacing / 2 + 1e-6  # 1 um of slack: rounding never breaks the bound
        bound = max_distance + half  # a segment within max_distance has a sample within this
        n_samples = len(self.sample_segment)
        todo = np.arange(n)
        for k in self.passes:
            if len(todo) == 0:
                break
            k = min(k, n_samples)
            d_k, i_k = self.samples.query(xy[todo], k=k, distance_upper_bound=bound)
            d_k, i_k = d_k.reshape(len(todo), k), i_k.reshape(len(todo), k)
            found = i_k < n_samples
            cand = np.where(found, self.sample_segment[np.minimum(i_k, n_samples - 1)], -1).astype(
                np.int64
            )
            dc = np.where(found, self.distance(xy[todo][:, None, :], np.maximum(cand, 0)), np.inf)
            best = dc.min(axis=1)
            tie = np.where(dc == best[:, None], cand, np.iinfo(np.int64).max).min(axis=1)
            # exact when every sample within best + spacing / 2 came back: the k-th is
            # farther, or fewer than k lie within the bound (then also when none does)
            sure = (d_k[:, -1] > best + half) | ~found[:, -1]
            done = todo[sure]
            near = np.isfinite(best[sure])
            seg[done[near]] = tie[sure][near]
            dist[todo] = best  # the unsure keep an upper bound of their distance
            todo = todo[~sure]
        if len(todo):  # the few left: every sample within best + spacing / 2, exactly
            balls = self.samples.query_ball_point(xy[todo], r=dist[todo] + half)
            count = np.fromiter(map(len, balls), dtype=np.int64, count=len(balls))
            flat = np.fromiter(itertools.chain.from_iterable(balls), dtype=np.int64,
                               count=int(count.sum()))  # fmt: skip
            row = np.repeat(np.arange(len(todo)), count)
            cand = self.sample_segment[flat].astype(np.int64)
            dc = self.distance(xy[todo][row], cand)
            order = np.lexsort((cand, dc, row))  # per point: nearest, then lowest segment
            first = np.ones(len(order), dtype=bool)
            first[1:] = row[order][1:] != row[order][:-1]
            pick = order[first]
            seg[todo[row[pick]]] = cand[pick]
            dist[todo[row[pick]]] = dc[pick]
        seg[dist > max_distance] = -1
        return seg


_CHUNK = 2**16  # points per nearest-segment query
_SORT_MIN = 4096  # fewer points are asked in their own order
_SORT_MIN_SAMPLES = 65_536  # and so are the points of a tree this small (no gain measured)


def _morton(xy: np.ndarray) -> np.ndarray:
    """Z-order (Morton) code of points on a 65,536 x 65,536 grid over their bounds."""
    lo = np.nanmin(xy, axis=0)
    span = np.maximum(np.nanmax(xy, axis=0) - lo, 1e-9)
    q = np.nan_to_num((xy - lo) / span * 65535.0).astype(np.uint64)

    def spread(v: np.ndarray) -> np.ndarray:
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    return spread(q[:, 0]) | (spread(q[:, 1]) << np.uint64(1))


def ranges(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(s, s + n)`` for every (s, n), and the group of each element."""
    group = np.repeat(np.arange(len(starts)), lengths)
    first = np.cumsum(lengths) - lengths
    pos = starts[group] + (np.arange(int(lengths.sum())) - first[group])
    return pos, group
