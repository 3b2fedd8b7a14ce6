//! Side by side with automerge-repo (issue 13 §1): the Onsite half of `bench/compare.sh`.
