//! The relay as a process of its own for the fault tests (`tests/tests/faults.rs`), which kill it
//! with SIGKILL: `onsite-fault-relay <database> <address>` serves the database on the address
//! (waiting while a killed predecessor's port is still being released) and prints `ready`.
//! It runs the same `onsite_relay::start` as `onsite-relay serve`, with the default settings.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(addr)) = (args.next(), args.next()) else {
        bail!("usage: onsite-fault-relay <database> <address>");
    };
    let addr: SocketAddr = addr.parse().context("address")?;
    let listener = bind(addr).await?;
    let relay = onsite_relay::start(onsite_relay::Config::for_database(&db), listener)
        .await
        .context("start the relay")?;
    println!("ready {}", relay.url());
    std::future::pending::<()>().await;
    Ok(())
}

async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                if tokio::time::Instant::now() > deadline {
                    bail!("{addr} stayed in use: {e}");
                }
            }
            Err(e) => return Err(e).context("bind"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
