"""``GET /api/v1/audit/verify``: the audit trail checked, entry by entry and against its
signed checkpoints, the document ``quarterdeck audit verify --json`` prints."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from console.api.caller import current_principal
from console.api.context import ApiContext, context_of

router = APIRouter(prefix="/audit", tags=["audit"], dependencies=[Depends(current_principal)])
Context = Annotated[ApiContext, Depends(context_of)]


class Verification(BaseModel):
    ok: bool = Field(description="True when every entry and signed checkpoint verifies.")
    entries: int | None = Field(default=None, description="Entries verified (when ok).")
    checkpoints: int | None = Field(default=None, description="Signed checkpoints (when ok).")
    last_checkpoint_at: int | None = Field(
        default=None, description="The entry count the newest checkpoint covers."
    )
    pinned_at: int | None = Field(
        default=None, description="The entry count the head file beside the key pins."
    )
    problem: str | None = Field(default=None, description="What broke (when not ok).")


@router.get("/verify", response_model=Verification, response_model_exclude_none=True,
            summary="Verify the audit trail: each entry and signed checkpoint")  # fmt: skip
async def verify(context: Context) -> dict[str, Any]:
    from core.audit import verification

    deck = context.deck  # hashes every entry: off the loop
    return await asyncio.to_thread(verification, deck.store, deck.settings.audit_key_file)
