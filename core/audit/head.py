"""The audit trail's signed head, kept in a small file beside the signing key.

Checkpoints live in the database, in a table whoever can rewrite the trail can
also empty: delete the tail of the trail and every checkpoint, and what is left
verifies. So each checkpoint is also written here, outside the database: the
entry count, head entry and head hash of the newest checkpoint, signed with the
same key, in one file per store (named by a digest of the store's location,
since one key may sign several stores). While this file exists, the trail must
still hold the head it pins, and the checkpoint table must still hold the
checkpoint that signed it; ``verify_audit`` says which is missing.

Functions here block: call them from a worker thread.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import make_url

from core.audit.trail import Tampered
from core.store import Store


@dataclass(frozen=True, slots=True)
class Head:
    """What a head file pins: the trail had ``entries`` entries up to entry ``seq``,
    whose hash was ``hash``."""

    entries: int
    seq: int
    hash: str


def store_identity(store: Store) -> str:
    """Where the store is, the same from any process on this host: a SQLite file's
    absolute path, else the URL without its password."""
    url = make_url(store.url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return f"sqlite:///{Path(url.database or '').resolve()}"
    return url.render_as_string(hide_password=True)


def head_file(key_path: Path, store: Store) -> Path:
    """The head file of ``store`` beside ``key_path``."""
    digest = hashlib.sha256(store_identity(store).encode()).hexdigest()[:16]
    return key_path.with_name(f"{key_path.stem}.head-{digest}.json")


def _message(identity: str, head: Head) -> bytes:
    return f"quarterdeck-audit-head:{identity}:{head.entries}:{head.seq}:{head.hash}".encode()


def read_head(path: Path, identity: str, public: Ed25519PublicKey) -> Head | None:
    """The head pinned in ``path`` (None without one); ``Tampered`` when the file is not
    a head this key signed for this store."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        head = Head(int(document["entries"]), int(document["head_seq"]),
                    str(document["head_hash"]))  # fmt: skip
        signature = bytes.fromhex(document["signature"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Tampered(f"the audit head file {path} cannot be read: {exc}") from None
    try:
        public.verify(signature, _message(identity, head))
    except InvalidSignature:
        raise Tampered(f"the audit head file {path} does not verify with this key (edited, "
                       "or copied from another store)") from None  # fmt: skip
    return head


def pin_head(key_path: Path, store: Store, key: Ed25519PrivateKey, head: Head) -> None:
    """Write ``head`` to the store's head file, unless it already pins a later one."""
    path = head_file(key_path, store)
    identity = store_identity(store)
    pinned = read_head(path, identity, key.public_key())
    if pinned is not None and pinned.entries >= head.entries:
        return
    document = {"store": identity, "entries": head.entries, "head_seq": head.seq,
                "head_hash": head.hash,
                "signature": key.sign(_message(identity, head)).hex()}  # fmt: skip
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def check_head(
    head: Head, where: Path, hash_there: str | None, entries_up_to: int, checkpointed: bool
) -> None:
    """``Tampered`` unless the trail still holds ``head`` (``hash_there`` is the hash of
    its entry now, ``entries_up_to`` the entries up to it) and a checkpoint of it is still
    in the table (``checkpointed``)."""
    pinned = f"entry {head.seq} ({head.entries} entries), pinned in {where}"
    if hash_there != head.hash:
        raise Tampered(f"the trail no longer has the signed head {pinned}: its tail was "
                       "deleted or rewritten", head.seq)  # fmt: skip
    if entries_up_to != head.entries:
        raise Tampered(f"the trail has {entries_up_to} entries up to the signed head "
                       f"{pinned} (inserted or deleted)", head.seq)  # fmt: skip
    if not checkpointed:
        raise Tampered(f"the checkpoint of the signed head {pinned} is gone from the "
                       "database: checkpoints were deleted", head.seq)  # fmt: skip
