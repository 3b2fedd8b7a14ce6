//! A loopback TCP proxy between devices and the relay that misbehaves on purpose: each accepted
//! connection gets a [`Fault`] drawn from a seeded schedule — passed through, delayed, refused,
//! stalled, cut (request or response truncated after some bytes) or reset (RST instead of FIN).
//! [`FaultProxy::heal`] makes every later connection pass, so a test can end a schedule and
//! check that everything converged.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    /// Every chunk, both ways, waits this long.
    Delay(Duration),
    /// Closed at once, before a byte is read.
    Refuse,
    /// Accepted, nothing forwarded for this long, then reset.
    Stall(Duration),
    /// The request stream ends after this many bytes.
    CutRequest(usize),
    /// The response stream ends after this many bytes.
    CutResponse(usize),
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Pass => "pass",
            Fault::Delay(_) => "delay",
            Fault::Refuse => "refuse",
            Fault::Stall(_) => "stall",
            Fault::CutRequest(_) => "cut request",
            Fault::CutResponse(_) => "cut response",
        }
    }

    /// A fault drawn from `rng`: about half the connections misbehave.
    fn draw(rng: &mut StdRng) -> Fault {
        let ms = |rng: &mut StdRng, max| Duration::from_millis(rng.random_range(1..max));
        match rng.random_range(0..12u32) {
            0..=5 => Fault::Pass,
            6 => Fault::Delay(ms(rng, 40)),
            7 => Fault::Refuse,
            8 => Fault::Stall(ms(rng, 300)),
            9 => Fault::CutRequest(rng.random_range(0..4_000)),
            _ => Fault::CutResponse(rng.random_range(0..20_000)),
        }
    }
}

/// The proxy; dropping it stops accepting.
pub struct FaultProxy {
    pub addr: SocketAddr,
    healed: Arc<AtomicBool>,
    applied: Arc<Mutex<BTreeMap<(&'static str, bool), u32>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Forward 127.0.0.1:<fresh port> to `target`, faults drawn from `seed`.
    pub async fn start(target: SocketAddr, seed: u64) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let healed = Arc::new(AtomicBool::new(false));
        let applied = Arc::new(Mutex::new(BTreeMap::new()));
        let (h, a) = (healed.clone(), applied.clone());
        let task = tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed);
            while let Ok((client, _)) = listener.accept().await {
                let (fault, reset) = match h.load(Ordering::SeqCst) {
                    true => (Fault::Pass, false),
                    false => (Fault::draw(&mut rng), rng.random_bool(0.5)),
                };
                let applied = a.clone();
                tokio::spawn(async move {
                    serve(client, target, fault, reset).await;
                    let key = (fault.name(), reset && fault != Fault::Pass);
                    *applied
                        .lock()
                        .expect("proxy counts")
                        .entry(key)
                        .or_default() += 1;
                });
            }
        });
        FaultProxy {
            addr,
            healed,
            applied,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on every new connection passes untouched.
    pub fn heal(&self) {
        self.healed.store(true, Ordering::SeqCst);
    }

    /// How many connections ended under each fault, `(name, ended with a reset)`.
    pub fn applied(&self) -> BTreeMap<(&'static str, bool), u32> {
        self.applied.lock().expect("proxy counts").clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How a direction of a connection ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Eof,
    Cut,
}

async fn serve(mut client: TcpStream, target: SocketAddr, fault: Fault, reset: bool) {
    if reset || matches!(fault, Fault::Stall(_)) {
        // Closing a socket with linger 0 sends RST instead of FIN. (Deprecated because a
        // non-zero linger blocks the thread on drop; a zero one returns at once.)
        #[allow(deprecated)]
        let _ = client.set_linger(Some(Duration::ZERO));
    }
    let (up_limit, down_limit, delay) = match fault {
        Fault::Refuse => return,
        Fault::Stall(d) => return tokio::time::sleep(d).await,
        Fault::Pass => (None, None, Duration::ZERO),
        Fault::Delay(d) => (None, None, d),
        Fault::CutRequest(n) => (Some(n), None, Duration::ZERO),
        Fault::CutResponse(n) => (None, Some(n), Duration::ZERO),
    };
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        return;
    };
    let (mut cr, mut cw) = client.split();
    let (mut ur, mut uw) = upstream.split();
    let up = copy(&mut cr, &mut uw, up_limit, delay);
    let down = copy(&mut ur, &mut cw, down_limit, delay);
    tokio::pin!(up, down);
    let (mut up_done, mut down_done) = (false, false);
    while !(up_done && down_done) {
        let end = tokio::select! {
            e = &mut up, if !up_done => { up_done = true; e }
            e = &mut down, if !down_done => { down_done = true; e }
        };
        if end == End::Cut {
            return;
        }
    }
}

/// Copy `from` to `to` until EOF (then shut `to`'s writing down) or until `limit` bytes have
/// gone through; every chunk waits `delay` first.
async fn copy<R, W>(from: &mut R, to: &mut W, limit: Option<usize>, delay: Duration) -> End
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut left = limit.unwrap_or(usize::MAX);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) => {
                let _ = to.shutdown().await;
                return End::Eof;
            }
            Ok(n) => n,
            Err(_) => return End::Cut,
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let n = n.min(left);
        if to.write_all(&buf[..n]).await.is_err() {
            return End::Cut;
        }
        left -= n;
        if left == 0 {
            return End::Cut;
        }
    }
}
