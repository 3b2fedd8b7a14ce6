//! The device at scale (issue 13 §3): a store of 10,000 orders, start-up and first sync.
