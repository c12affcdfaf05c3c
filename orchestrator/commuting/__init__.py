"""Commuters who deliver on their way: trips, offers that fit, and their life in the plan.

One concept per module: the offer rule on plain values (:mod:`.bundle`), the payout rule
(:mod:`.payout`), couriers and trips and the offer made for a trip (:mod:`.trips`), an offer
accepted into the plan or sent back to the vans (:mod:`.offers`), pickup and hand-over
(:mod:`.handoff`), what the courier sees (:mod:`.views`).
"""

from orchestrator.commuting.bundle import Bundle, BundleStop, Trip, best_bundle
from orchestrator.commuting.handoff import deliver, get_job, pick_up
from orchestrator.commuting.offers import (
    WITH_COURIER,
    accept_offer,
    expire_due,
    get_offer,
    refuse_offer,
    report_no_show,
)
from orchestrator.commuting.payout import Payout, decide
from orchestrator.commuting.trips import create_courier, get_trip, register_trip
from orchestrator.commuting.views import JobView, OfferView, offer_view

__all__ = [
    "WITH_COURIER",
    "Bundle",
    "BundleStop",
    "JobView",
    "OfferView",
    "Payout",
    "Trip",
    "accept_offer",
    "best_bundle",
    "create_courier",
    "decide",
    "deliver",
    "expire_due",
    "get_job",
    "get_offer",
    "get_trip",
    "offer_view",
    "pick_up",
    "refuse_offer",
    "register_trip",
    "report_no_show",
]
