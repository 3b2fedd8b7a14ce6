//! The relay: accounts, tokens, per-document access control and the changes feed.
