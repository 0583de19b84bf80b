"""Tables of a qualcode project, and the migrations between schema versions.

Version 1 is the first release. A migration is a function from version N-1 to N; opening
an older project runs the missing ones (after a backup) and opening a newer one is refused.
"""

from __future__ import annotations

import sqlite3

APPLICATION_ID = 0x51434F44  # "QCOD": marks the file as a qualcode project
SCHEMA_VERSION = 1

TABLES_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE coders (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE documents (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, type TEXT, language TEXT NOT NULL DEFAULT 'en',
  text TEXT NOT NULL, sha256 TEXT NOT NULL, source_name TEXT, source_format TEXT,
  imported_at TEXT NOT NULL, position INTEGER NOT NULL DEFAULT 0);
CREATE TABLE document_attributes (
  id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  key TEXT NOT NULL, value TEXT, UNIQUE(document_id, key));
CREATE TABLE speakers (
  id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  label TEXT NOT NULL, role TEXT, UNIQUE(document_id, label));
CREATE TABLE speaker_attributes (
  id TEXT PRIMARY KEY, speaker_id TEXT NOT NULL REFERENCES speakers(id) ON DELETE CASCADE,
  key TEXT NOT NULL, value TEXT, UNIQUE(speaker_id, key));
CREATE TABLE turns (
  id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL, speaker_id TEXT REFERENCES speakers(id) ON DELETE SET NULL,
  start INTEGER NOT NULL, "end" INTEGER NOT NULL, text_start INTEGER NOT NULL, timestamp TEXT);
CREATE TABLE paragraphs (
  id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL, turn_id TEXT REFERENCES turns(id) ON DELETE CASCADE,
  start INTEGER NOT NULL, "end" INTEGER NOT NULL);
CREATE TABLE sentences (
  id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL, turn_id TEXT REFERENCES turns(id) ON DELETE CASCADE,
  start INTEGER NOT NULL, "end" INTEGER NOT NULL);
CREATE TABLE codes (
  id TEXT PRIMARY KEY, parent_id TEXT REFERENCES codes(id), name TEXT NOT NULL, path TEXT NOT NULL UNIQUE,
  description TEXT, when_to_use TEXT, when_not_to_use TEXT, examples TEXT NOT NULL DEFAULT '[]',
  keywords TEXT NOT NULL DEFAULT '[]', color TEXT, shortcut INTEGER, position INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL);
CREATE TABLE codings (
  id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id),
  code_id TEXT NOT NULL REFERENCES codes(id), coder_id TEXT NOT NULL REFERENCES coders(id),
  start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
  context_before TEXT NOT NULL DEFAULT '', context_after TEXT NOT NULL DEFAULT '',
  memo TEXT, origin TEXT NOT NULL DEFAULT 'manual', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  CHECK (start >= 0 AND "end" > start));
CREATE TABLE memos (
  id TEXT PRIMARY KEY, target_type TEXT NOT NULL, target_id TEXT, coder_id TEXT REFERENCES coders(id),
  title TEXT, text TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE suggestions (
  id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  code_id TEXT NOT NULL REFERENCES codes(id) ON DELETE CASCADE, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
  unit TEXT NOT NULL DEFAULT 'sentence', score REAL NOT NULL, evidence TEXT NOT NULL DEFAULT '{}',
  model_version TEXT, status TEXT NOT NULL DEFAULT 'open', created_at TEXT NOT NULL,
  decided_at TEXT, decided_by TEXT);
CREATE TABLE sets (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT);
CREATE TABLE set_members (
  id TEXT PRIMARY KEY, set_id TEXT NOT NULL REFERENCES sets(id) ON DELETE CASCADE,
  document_id TEXT REFERENCES documents(id) ON DELETE CASCADE,
  code_id TEXT REFERENCES codes(id) ON DELETE CASCADE);
CREATE TABLE settings (id TEXT PRIMARY KEY, value TEXT);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, ts TEXT NOT NULL, coder TEXT,
  kind TEXT NOT NULL, summary TEXT NOT NULL, ops TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'done');
CREATE INDEX turns_doc ON turns(document_id, start);
CREATE INDEX paragraphs_doc ON paragraphs(document_id, start);
CREATE INDEX sentences_doc ON sentences(document_id, start);
CREATE INDEX codings_doc ON codings(document_id, start);
CREATE INDEX codings_code ON codings(code_id);
CREATE INDEX codes_parent ON codes(parent_id);
CREATE INDEX suggestions_doc ON suggestions(document_id, status);
CREATE INDEX events_state ON events(state, seq);
CREATE INDEX doc_attr ON document_attributes(key, value);
"""

# Migrations: MIGRATIONS[n] upgrades a project from version n-1 to n.
MIGRATIONS: dict[int, str] = {
    1: TABLES_V1,
}


def create(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for version in sorted(MIGRATIONS):
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def migrate(conn: sqlite3.Connection, current: int) -> None:
    """Bring an older project up to SCHEMA_VERSION in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
