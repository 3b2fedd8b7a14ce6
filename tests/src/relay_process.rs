//! The relay as a child process (`onsite-fault-relay`), so a test can kill it with SIGKILL — no
//! destructor, no flush, no graceful shutdown — and start it again on the same address and
//! database, where devices find it by themselves.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running (or killed) relay process on a fixed 127.0.0.1 address.
pub struct RelayProcess {
    exe: PathBuf,
    db: PathBuf,
    pub addr: SocketAddr,
    child: Option<Child>,
}

impl RelayProcess {
    /// Start `exe` (the test's `env!("CARGO_BIN_EXE_onsite-fault-relay")`) on `db` at a free
    /// 127.0.0.1 port and wait until `/healthz` answers.
    pub async fn start(exe: &str, db: &Path) -> RelayProcess {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port");
        let mut relay = RelayProcess {
            exe: exe.into(),
            db: db.to_owned(),
            addr,
            child: None,
        };
        relay.restart().await;
        relay
    }

    /// `http://127.0.0.1:<port>`, the same across restarts.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL the process (if it runs) and reap it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Child::kill sends SIGKILL on Unix.
            child.kill().expect("SIGKILL the relay");
            child.wait().expect("reap the relay");
        }
    }

    /// Start the process again on the same address and database (killing a running one first)
    /// and wait until it serves.
    pub async fn restart(&mut self) {
        self.kill();
        let mut child = Command::new(&self.exe)
            .arg(&self.db)
            .arg(self.addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the relay process");
        let stdout = child.stdout.take().expect("relay stdout");
        self.child = Some(child);
        let ready = tokio::task::spawn_blocking(move || {
            let mut out = BufReader::new(stdout);
            let mut line = String::new();
            let read = out.read_line(&mut line).map(|_| line);
            // Keep reading, so the process never writes into a closed pipe.
            std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
            read
        })
        .await
        .expect("read the relay's first line")
        .expect("relay stdout");
        assert!(
            ready.starts_with("ready "),
            "the relay process must start on its database and address, printed {ready:?}"
        );
        onsite_testkit::relay::wait_healthy(&self.url()).await;
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
