"""Placeholder router of api.pages.board; its owner fills it in."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
