"""Placeholder router of api.pages.customer; its owner fills it in."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
