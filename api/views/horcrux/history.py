"""horcrux /api/monitoring/history/{metric} from the ProxmoxNodes' ``history.json`` samples.

Each guest inventory head ConfigMap keeps up to 1440 cluster-total samples (one per inventory pass:
``cpu`` 0..1 weighted by ``cpus``, ``mem``/``maxmem``, ``disk``/``maxdisk``, ``netin``/``netout``
counters). The history keeps the samples in ``[start, end]``, puts them in ``interval``-second buckets
aligned on the epoch (each ProxmoxNode's samples in a bucket averaged) and sums the ProxmoxNodes per
bucket: cpu/memory/disk as a percentage of the summed capacity, network as the summed byte counters.
A ProxmoxNode without a sample in a bucket counts with its previous bucket's figures while those are
at most two of its inventory intervals old, so a slower-sampled cluster does not make the totals jump.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from daytwo.api.views.platform9.common import parse_time
from daytwo.api.views.pmi.guests import NodeGuests
from daytwo.operator.shared.times import format_time

__all__ = ["METRICS", "history_points", "parse_range"]

#: horcrux metric -> (sample numerator, sample denominator; None: a plain sum).
METRICS: dict[str, tuple[str, str | None]] = {
    "cpu_usage": ("cpu", "cpus"),
    "memory_usage": ("mem", "maxmem"),
    "disk_usage": ("disk", "maxdisk"),
    "network_rx": ("netin", None),
    "network_tx": ("netout", None),
}


def parse_range(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """``start``/``end`` as UTC datetimes; ValueError (with what is wrong) for a bad time or an inverted range."""
    bounds = []
    for label, text in (("start", start), ("end", end)):
        try:
            moment = parse_time(text) if text else None
        except OverflowError:  # e.g. year 1 with a positive offset: before datetime.min in UTC
            moment = None
        if text and moment is None:
            raise ValueError(f"{label} must be an ISO 8601 time such as 2025-10-09T10:00:00Z, not {text!r}")
        bounds.append(moment)
    if bounds[0] and bounds[1] and bounds[0] > bounds[1]:
        raise ValueError("start must not be after end")
    return bounds[0], bounds[1]


def _figures(sample: Mapping[str, object], metric: str) -> tuple[float, float]:
    top, bottom = METRICS[metric]

    def number(key: str) -> float:
        value = sample.get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0

    if metric == "cpu_usage":
        return number("cpu") * number("cpus"), number("cpus")
    return number(top), number(bottom) if bottom else 0.0


def _buckets(
    node: NodeGuests, metric: str, low: float | None, high: float | None, interval: int
) -> dict[int, tuple[float, float]]:
    sums: dict[int, list[float]] = {}
    for at, sample in zip(node.sample_times, node.samples, strict=True):
        if (low is not None and at < low) or (high is not None and at > high):
            continue
        top, bottom = _figures(sample, metric)
        entry = sums.setdefault(int(at // interval) * interval, [0.0, 0.0, 0.0])
        entry[0], entry[1], entry[2] = entry[0] + top, entry[1] + bottom, entry[2] + 1
    return {bucket: (top / count, bottom / count) for bucket, (top, bottom, count) in sums.items()}


def history_points(
    nodes: Sequence[NodeGuests], metric: str, start: datetime | None, end: datetime | None, interval: int
) -> list[dict[str, object]]:
    """``[{timestamp, value}]`` of ``metric`` over every ProxmoxNode's samples, oldest first (see module doc)."""
    low, high = (start.timestamp() if start else None), (end.timestamp() if end else None)
    per_node = [(node, _buckets(node, metric, low, high, interval)) for node in nodes if node.samples]
    moments = sorted({bucket for _node, buckets in per_node for bucket in buckets})
    ratio = METRICS[metric][1] is not None
    last: dict[str, tuple[int, tuple[float, float]]] = {}
    points: list[dict[str, object]] = []
    for bucket in moments:
        top = bottom = 0.0
        for node, buckets in per_node:
            figures = buckets.get(bucket)
            if figures is not None:
                last[node.cr] = (bucket, figures)
            else:
                seen = last.get(node.cr)
                horizon = 2 * max(interval, node.interval_seconds or interval)
                if seen is None or bucket - seen[0] > horizon:
                    continue
                figures = seen[1]
            top, bottom = top + figures[0], bottom + figures[1]
        value = (round(top * 100.0 / bottom, 1) if bottom > 0 else 0.0) if ratio else float(top)
        stamp = format_time(datetime.fromtimestamp(bucket, UTC))
        points.append({"timestamp": stamp, "value": value})
    return points
