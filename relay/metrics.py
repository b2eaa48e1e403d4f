"""Prometheus metrics. Counts of what happened live in the store, so any process reports the truth."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from relay.store.schema import InboxEvent

if TYPE_CHECKING:
    from relay.runtime import Runtime


class _StoreCollector(Collector):
    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily]:
        events = GaugeMetricFamily("relay_inbox_events", "Events in the inbox by source and status", labels=["source", "status"])
        retries = GaugeMetricFamily("relay_inbox_attempts", "Processing attempts beyond the first, by source", labels=["source"])
        with self.runtime.store.session() as s:
            for source, status, n in s.execute(select(InboxEvent.source, InboxEvent.status, func.count()).group_by(InboxEvent.source, InboxEvent.status)):
                events.add_metric([source, status], n)
            for source, extra in s.execute(select(InboxEvent.source, func.sum(InboxEvent.attempts - 1)).where(InboxEvent.attempts > 1).group_by(InboxEvent.source)):
                retries.add_metric([source], float(extra or 0))
        yield events
        yield retries
        age = self.runtime.inbox.oldest_pending_age()
        yield GaugeMetricFamily("relay_oldest_pending_seconds", "Age of the oldest event not yet processed", value=age or 0.0)


class Metrics:
    def __init__(self, runtime: "Runtime") -> None:
        self.registry = CollectorRegistry()
        self.received = Counter("relay_events_received", "Events accepted at intake", ["source"], registry=self.registry)
        self.duplicates = Counter("relay_events_duplicate", "Deliveries of an event already stored", ["source"], registry=self.registry)
        self.rejected = Counter("relay_requests_rejected", "Intake requests refused", ["source", "status"], registry=self.registry)
        self.outcomes = Counter("relay_events_processed", "Events finished by this process", ["source", "outcome"], registry=self.registry)
        self.retries = Counter("relay_event_retries", "Retries scheduled by this process", ["source"], registry=self.registry)
        self.action_seconds = Histogram("relay_action_seconds", "Time of outbound writes", ["action"], registry=self.registry,
                                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.registry.register(_StoreCollector(runtime))

    def processed(self, source: str, outcome: str) -> None:
        self.outcomes.labels(source, outcome).inc()

    def retried(self, source: str) -> None:
        self.retries.labels(source).inc()

    def action_latency(self, action: str, seconds: float) -> None:
        self.action_seconds.labels(action).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
