//! A technician's device as a process of its own for the fault tests (`tests/tests/faults.rs`),
//! which kill it with SIGKILL while it syncs:
//! `onsite-fault-device <store dir> <order,order,…> <edit id prefix> <edits>` opens the device
//! store a test signed in, and for each edit adds a home check to the next order's visit
//! (printing `edit <order> <id>` once the store has committed it), then prints `sync` and syncs
//! with the relay of the stored session (`synced` or `offline <error>` after).

use anyhow::{Context, bail};
use onsite_domain::edit::VisitEdit;
use onsite_domain::visit::CheckResult;
use onsite_store::Store;
use std::sync::{Arc, Mutex};

/// Device time of the edits (a home check does not depend on it).
const NOW: i64 = 1_790_000_000_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, orders, prefix, edits] = args.as_slice() else {
        bail!("usage: onsite-fault-device <store dir> <order,order,…> <edit id prefix> <edits>");
    };
    let orders: Vec<&str> = orders.split(',').collect();
    let edits: usize = edits.parse().context("edits")?;
    let store = Arc::new(Mutex::new(Store::open_in(dir).context("open the store")?));
    let session = onsite_client::Session::load(&store)?.context("signed in")?;
    let relay = onsite_client::Relay::new(&session.relay_url)?;
    for k in 0..edits {
        let order = orders[k % orders.len()];
        let id = format!("{prefix}-{k}");
        let edit = VisitEdit::AddHomeCheck {
            id: id.clone(),
            appliance: "冰箱 fridge".into(),
            result: CheckResult::Ok,
            note: format!("check {k}"),
        };
        store
            .lock()
            .expect("store lock")
            .apply_visit_edit(order, &session.user_id, edit, NOW)
            .with_context(|| format!("edit {id}"))?;
        println!("edit {order} {id}");
        println!("sync");
        match onsite_client::sync_once(&store, &relay, &session, |_, _| {}).await {
            Ok(_) => println!("synced"),
            Err(e) => println!("offline {}", e.code()),
        }
    }
    Ok(())
}
