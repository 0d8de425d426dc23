"""Signed checkpoints of the audit trail: its length and head hash, signed with Ed25519.

The hash chain shows an edit anywhere before the head; a checkpoint also pins
the head itself, so rewriting the whole chain from some entry on (or
truncating it) no longer verifies against a signature made earlier. The
newest checkpoint is also pinned outside the database, in a head file beside
the key (``core.audit.head``), so deleting the checkpoints with the tail does
not verify either. The
private key lives in a file outside the database (created on first use,
mode 0600), and verification uses the public key derived from that file,
never a key stored beside the data it vouches for.

Functions here block: call them from a worker thread.
"""

from __future__ import annotations

import bisect
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, col, func, select

from core.audit.head import Head, check_head, head_file, pin_head, read_head, store_identity
from core.audit.trail import Tampered, verify_trail
from core.store import AuditCheckpointRow, AuditRow, Store


@dataclass(frozen=True, slots=True)
class Verified:
    entries: int
    checkpoints: int
    last_checkpoint_at: int | None  # entry count the newest checkpoint covers
    last_checkpoint_id: int | None = None
    last_checkpoint_ts: float | None = None  # when the newest checkpoint was signed
    pinned_at: int | None = None  # entry count the head file beside the key pins


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key in ``path`` (PEM, PKCS#8); a new one is written there if absent."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path}: not an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return key


def _message(count: int, head: str) -> bytes:
    return f"quarterdeck-audit-checkpoint:{count}:{head}".encode()


def sign_checkpoint(store: Store, key_path: Path) -> AuditCheckpointRow | None:
    """Sign the trail's current length and head, and pin it in the head file beside the
    key; None if nothing was added since the last. ``Tampered`` (nothing signed) when the
    trail or the checkpoints lost the head pinned before: signing now would vouch for
    the loss."""
    key = load_or_create_key(key_path)
    where = head_file(key_path, store)
    pinned = read_head(where, store_identity(store), key.public_key())
    with store.session() as session:
        if pinned is not None:
            _check_pinned(session, pinned, where)
        head = session.exec(select(AuditRow).order_by(col(AuditRow.seq).desc()).limit(1)).first()
        if head is None:
            return None
        # Entries up to the head only: a writer may commit between the two reads.
        count = _entries_up_to(session, head.seq or 0)
        latest = session.exec(
            select(AuditCheckpointRow).order_by(col(AuditCheckpointRow.id).desc()).limit(1)
        ).first()
        if latest is not None and latest.head_hash == head.hash:
            row = None  # nothing new; the pin may still predate the head file
        else:
            signature = key.sign(_message(count, head.hash)).hex()
            row = AuditCheckpointRow(ts=time.time(), entries=count, head_seq=head.seq or 0,
                                     head_hash=head.hash, signature=signature)  # fmt: skip
            session.add(row)
            session.commit()
            session.refresh(row)
    pin_head(key_path, store, key, Head(count, head.seq or 0, head.hash))
    return row


def _entries_up_to(session: Session, seq: int) -> int:
    query = select(func.count()).select_from(AuditRow).where(col(AuditRow.seq) <= seq)
    return int(session.exec(query).one())


def _check_pinned(session: Session, pinned: Head, where: Path) -> None:
    entry = session.get(AuditRow, pinned.seq)
    checkpoint = session.exec(
        select(AuditCheckpointRow.id).where(AuditCheckpointRow.head_hash == pinned.hash).limit(1)
    ).first()
    check_head(pinned, where, entry.hash if entry is not None else None,
               _entries_up_to(session, pinned.seq), checkpoint is not None)  # fmt: skip


def verify_audit(store: Store, key_path: Path) -> Verified:
    """Verify the chain and every checkpoint against it; ``Tampered`` says what broke."""
    entries = verify_trail(store)
    public = load_or_create_key(key_path).public_key() if key_path.exists() else None
    with store.session() as session:
        checkpoints = session.exec(
            select(AuditCheckpointRow).order_by(col(AuditCheckpointRow.id))
        ).all()
        hashes = {row.seq: row.hash for row in session.exec(select(AuditRow)).all()}
        ordered = sorted(hashes)
    if checkpoints and public is None:
        raise Tampered(f"{len(checkpoints)} signed checkpoint(s) but no key at {key_path} to "
                       "check them with")  # fmt: skip
    for checkpoint in checkpoints:
        where = f"checkpoint {checkpoint.id} (at entry {checkpoint.head_seq})"
        try:
            assert public is not None
            public.verify(bytes.fromhex(checkpoint.signature),
                          _message(checkpoint.entries, checkpoint.head_hash))  # fmt: skip
        except (InvalidSignature, ValueError):
            raise Tampered(f"{where}: the signature does not verify with {key_path}",
                           checkpoint.head_seq) from None  # fmt: skip
        if hashes.get(checkpoint.head_seq) != checkpoint.head_hash:
            raise Tampered(f"{where}: the trail no longer has the signed head there "
                           "(rewritten or truncated)", checkpoint.head_seq)  # fmt: skip
        if ordered.index(checkpoint.head_seq) + 1 != checkpoint.entries:
            raise Tampered(f"{where}: the trail has {ordered.index(checkpoint.head_seq) + 1} "
                           "entries up to the signed head (inserted or deleted)",
                           checkpoint.head_seq)  # fmt: skip
    pinned = None
    if public is not None:
        head_path = head_file(key_path, store)
        pinned = read_head(head_path, store_identity(store), public)
        if pinned is not None:
            up_to = bisect.bisect_right(ordered, pinned.seq)
            checkpointed = any(c.head_hash == pinned.hash for c in checkpoints)
            check_head(pinned, head_path, hashes.get(pinned.seq), up_to, checkpointed)
    pinned_at = pinned.entries if pinned is not None else None
    if not checkpoints:
        return Verified(entries, 0, None, pinned_at=pinned_at)
    last = checkpoints[-1]
    return Verified(entries, len(checkpoints), last.entries, last.id, last.ts, pinned_at)


def verification(store: Store, key_path: Path) -> dict[str, Any]:
    """``verify_audit`` as a document: ``ok`` with the counts, or ``ok: false`` with the
    problem; what ``quarterdeck audit verify --json`` prints and the API answers."""
    try:
        verified = verify_audit(store, key_path)
    except Tampered as exc:
        return {"ok": False, "problem": str(exc)}
    return {"ok": True, "entries": verified.entries, "checkpoints": verified.checkpoints,
            "last_checkpoint_at": verified.last_checkpoint_at,
            "pinned_at": verified.pinned_at}  # fmt: skip
