"""Persisted operations: automatic persisted queries (APQ) and trusted documents.

APQ follows Apollo's protocol: a client sends `extensions.persistedQuery = {version: 1,
sha256Hash}` without the query; on PERSISTED_QUERY_NOT_FOUND it sends both, and the server
keeps the query (in a bounded, per-process store) for the next time.

Trusted documents are operations registered ahead of time in a manifest (Apollo's
persisted-query manifest, or a JSON object of hash to document). A role listed in
`trusted_documents_roles` may run only those, by hash or by their exact text.
"""

import hashlib
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

import orjson

from club.settings import Settings

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class ManifestError(ValueError):
    pass


def load_manifest(path: Path) -> dict[str, str]:
    """hash → document, from an Apollo manifest or a plain JSON object; every hash checked."""
    try:
        content: Any = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise ManifestError(f"cannot read trusted documents from {path}: {error}") from error
    if isinstance(content, dict) and content.get("format") == "apollo-persisted-query-manifest":
        pairs = [(entry.get("id"), entry.get("body")) for entry in content.get("operations", [])]
    elif isinstance(content, dict):
        pairs = list(content.items())
    else:
        raise ManifestError(f"{path}: expected an object of operations")
    documents: dict[str, str] = {}
    for key, body in pairs:
        if not isinstance(key, str) or not isinstance(body, str) or sha256(body) != key:
            raise ManifestError(f"{path}: {key!r} is not the SHA-256 of its document")
        documents[key] = body
    return documents


class PersistedDocuments:
    def __init__(self, *, apq_cache_size: int, trusted: dict[str, str] | None = None) -> None:
        self.apq_cache_size = apq_cache_size
        self.trusted = trusted or {}
        self.automatic: OrderedDict[str, str] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> "PersistedDocuments":
        trusted = (
            load_manifest(settings.trusted_documents_file)
            if settings.trusted_documents_file is not None
            else None
        )
        return cls(apq_cache_size=settings.apq_cache_size, trusted=trusted)

    def lookup(self, digest: str, *, automatic: bool) -> str | None:
        document = self.trusted.get(digest)
        if document is None and automatic:
            document = self.automatic.get(digest)
            if document is not None:
                self.automatic.move_to_end(digest)
        if document is None:
            self.misses += 1
        else:
            self.hits += 1
        return document

    def remember(self, digest: str, document: str) -> None:
        if self.apq_cache_size == 0 or digest in self.trusted:
            return
        self.automatic[digest] = document
        self.automatic.move_to_end(digest)
        while len(self.automatic) > self.apq_cache_size:
            self.automatic.popitem(last=False)

    def is_trusted(self, document: str) -> bool:
        return sha256(document) in self.trusted
