"""Deals as payments see them, whatever CRM holds them; CRM connectors register a directory here.

The review commands check that a deal an admin types exists, and the finance report reads each
project's price and upsells, through this interface, so neither knows a CRM's wire format.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Protocol

if TYPE_CHECKING:
    from relay.runtime import Runtime

DEFAULT_MAPPING = "payments"


@dataclass(frozen=True)
class DealFacts:
    id: str
    title: str
    amount_kopecks: int
    currency: str = "RUB"
    closed: bool = False
    client: str = ""  # e.g. "company 2"
    stage_id: str = ""
    upsell_of: str = ""  # the original sale this deal is an upsell of (S7), if any


class DealDirectory(Protocol):
    def deal(self, deal_id: str) -> DealFacts | None:
        """The deal now, or None if it does not exist."""

    def deals(self, deal_ids: Iterable[str]) -> dict[str, DealFacts]:
        """Many deals at once (those that exist)."""

    def upsells(self, deal_ids: Iterable[str]) -> list[DealFacts]:
        """Upsell deals of these sales (each names its sale in `upsell_of`)."""


DirectoryFactory = Callable[["Runtime", str], DealDirectory]
_FACTORIES: dict[str, DirectoryFactory] = {}


def register_directory(connector: str, factory: DirectoryFactory) -> None:
    """A CRM connector offers its deals to payments (called at import, like actions)."""
    _FACTORIES[connector] = factory


def directory(runtime: "Runtime", mapping: str = DEFAULT_MAPPING) -> DealDirectory | None:
    """The directory of the first configured CRM connector that offers one; None without a CRM."""
    for connector, factory in _FACTORIES.items():
        if connector in runtime.config.connectors:
            return factory(runtime, mapping)
    return None
