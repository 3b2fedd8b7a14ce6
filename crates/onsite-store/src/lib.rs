//! Durable device store: Automerge documents (snapshot + incremental changes), index tables and attachments in SQLite.
