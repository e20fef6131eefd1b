//! Servers for the load tests, on loopback only: a real nginx (a child process with a
//! generated config, a free port and a temporary root), and an in-process HTTP/1.1
//! server that misbehaves on request (stall, reset mid-body, 503, short body,
//! redirect elsewhere, refuse connections for a while).
//!
//! The fault server speaks HTTP/1.1 by hand over tokio sockets rather than through
//! hyper or axum: a reset needs `SO_LINGER 0` on the socket, and a short body needs a
//! `Content-Length` the server then does not honour, both of which a conforming
//! server library exists to prevent.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Byte `i` of every generated file: a pattern, so a misplaced range would show.
pub fn pattern(i: u64) -> u8 {
    (i % 251) as u8
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn find_nginx() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .or_else(|| {
            let out = Command::new("sh")
                .args(["-c", "command -v nginx"])
                .output()
                .ok()?;
            let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
            (!p.is_empty()).then(|| PathBuf::from(p))
        })
}

/// A running nginx serving generated files; killed on drop.
pub struct Nginx {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Nginx {
    /// Starts nginx with `files` (path under `SMS_DP_SMSPKG$/`, size) in its root, or
    /// returns `None` when nginx is not installed (`common::missing_tool`: a loud skip
    /// locally, a failure in CI).
    pub fn start(test: &str, files: &[(&str, u64)]) -> Option<Nginx> {
        let Some(bin) = find_nginx() else {
            crate::common::missing_tool(
                test,
                "nginx not found (.ci/run installs it; apt-get install nginx)",
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        let pkg = root.join("SMS_DP_SMSPKG$");
        std::fs::create_dir_all(&pkg).expect("root");
        for (name, size) in files {
            let data: Vec<u8> = (0..*size).map(pattern).collect();
            std::fs::write(pkg.join(name), data).expect("content file");
        }
        let port = free_port();
        let p = dir.path().display().to_string();
        let conf = format!(
            r#"
worker_processes 1;
error_log {p}/error.log;
pid {p}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log {p}/access.log;
    client_body_temp_path {p}/tmp_body;
    proxy_temp_path {p}/tmp_proxy;
    fastcgi_temp_path {p}/tmp_fastcgi;
    uwsgi_temp_path {p}/tmp_uwsgi;
    scgi_temp_path {p}/tmp_scgi;
    keepalive_requests 100000;
    sendfile on;
    server {{
        listen 127.0.0.1:{port};
        root {p}/root;
        location / {{ }}
    }}
}}
"#
        );
        let user = if unsafe_is_root() { "user root;\n" } else { "" };
        std::fs::write(dir.path().join("nginx.conf"), format!("{user}{conf}")).expect("conf");
        let child = Command::new(bin)
            .args([
                "-p",
                &p,
                "-c",
                &format!("{p}/nginx.conf"),
                "-g",
                "daemon off;",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let n = Nginx { child, dir, port };
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "nginx did not listen on {port}: {}",
                std::fs::read_to_string(n.dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(n)
    }

    /// The URL template of the files.
    pub fn template(&self) -> String {
        format!("http://127.0.0.1:{}/SMS_DP_SMSPKG$/{{content}}", self.port)
    }

    /// Lines of the access log that are requests for package files (the reachability
    /// check opens a bare TCP connection and makes no request).
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("access.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("SMS_DP_SMSPKG"))
            .map(str::to_string)
            .collect()
    }
}

fn unsafe_is_root() -> bool {
    // `id -u` avoids a libc dependency for one call.
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Drop for Nginx {
    /// SIGTERM first: nginx's master then stops its workers ("fast shutdown"). A
    /// SIGKILL of the master alone left its workers running after the tests.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the fault server does with one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Serve the asked range.
    Normal,
    /// Answer 503 and close the connection.
    Status503,
    /// Send the headers and half the body, then reset the connection (RST).
    ResetMidBody,
    /// Send the headers (full Content-Length) and half the body, then close cleanly.
    ShortBody,
    /// Send the headers and half the body, then go silent for a long time.
    Stall,
    /// Answer 302 to another host.
    RedirectElsewhere,
    /// Answer 503, close, and refuse connections (listener closed) for this long.
    Refuse(Duration),
    /// Answer with this status (and an empty body).
    Status(u16),
    /// Send the whole asked range as a chunked body, then close the connection
    /// without the closing zero-length chunk.
    ChunkedNoEnd,
    /// Send the body in ten equal pieces spread evenly over this long: a steady rate.
    Trickle(Duration),
}

/// A request the fault server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub range: Option<(u64, Option<u64>)>,
}

/// The in-process fault server.
pub struct FaultServer {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Most connections open at once.
    pub max_open: Arc<AtomicUsize>,
    _thread: std::thread::JoinHandle<()>,
}

impl FaultServer {
    /// Serves files of `size` bytes at any path; request `k` (counting from 0 over
    /// the whole server) gets `plan[k]`, later ones are served normally.
    pub fn start(size: u64, plan: Vec<Fault>) -> FaultServer {
        let std_listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = std_listener.local_addr().expect("addr");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let max_open = Arc::new(AtomicUsize::new(0));
        let max2 = max_open.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(serve(std_listener, addr, size, Arc::new(plan), seen2, max2));
        });
        FaultServer {
            addr,
            seen,
            max_open,
            _thread: thread,
        }
    }

    /// The URL template.
    pub fn template(&self) -> String {
        format!("http://{}/SMS_DP_SMSPKG$/{{content}}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

async fn serve(
    std_listener: TcpListener,
    addr: SocketAddr,
    size: u64,
    plan: Arc<Vec<Fault>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    max_open: Arc<AtomicUsize>,
) {
    let counter = Arc::new(AtomicUsize::new(0));
    let open = Arc::new(AtomicUsize::new(0));
    let mut listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
    // A connection that asks for a refusal period sends it here; the listener is then
    // closed for that long (connections are refused by the kernel meanwhile).
    let (tx, mut rx) =
        tokio::sync::mpsc::unbounded_channel::<(Duration, tokio::sync::oneshot::Sender<()>)>();
    loop {
        tokio::select! {
            acc = listener.accept() => {
                let Ok((sock, _)) = acc else { continue };
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                max_open.fetch_max(now, Ordering::SeqCst);
                let (open, plan, counter, seen, tx) =
                    (open.clone(), plan.clone(), counter.clone(), seen.clone(), tx.clone());
                tokio::spawn(async move {
                    connection(sock, size, plan, counter, seen, tx).await;
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
            Some((pause, closed)) = rx.recv() => {
                drop(listener);
                let _ = closed.send(());
                tokio::time::sleep(pause).await;
                listener = tokio::net::TcpListener::bind(addr).await.expect("rebind");
            }
        }
    }
}

async fn connection(
    mut sock: tokio::net::TcpStream,
    size: u64,
    plan: Arc<Vec<Fault>>,
    counter: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    refuse: tokio::sync::mpsc::UnboundedSender<(Duration, tokio::sync::oneshot::Sender<()>)>,
) {
    let mut buf = Vec::new();
    loop {
        // Read one request head.
        let head = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                buf.drain(..end + 4);
                break head;
            }
            let mut chunk = [0u8; 4096];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let path = head
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("")
            .to_string();
        let range = head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            if !k.trim().eq_ignore_ascii_case("range") {
                return None;
            }
            let spec = v.trim().strip_prefix("bytes=")?;
            let (a, b) = spec.split_once('-')?;
            Some((a.parse().ok()?, b.parse().ok()))
        });
        let k = counter.fetch_add(1, Ordering::SeqCst);
        let fault = plan.get(k).copied().unwrap_or(Fault::Normal);
        seen.lock().expect("lock").push(Seen { path, range });
        let (start, end) = match range {
            Some((a, b)) => (a, b.map_or(size, |b: u64| (b + 1).min(size))),
            None => (0, size),
        };
        let status = if range.is_some() {
            "206 Partial Content"
        } else {
            "200 OK"
        };
        let len = end.saturating_sub(start);
        let mut headers = format!("HTTP/1.1 {status}\r\nContent-Length: {len}\r\n");
        if range.is_some() {
            headers += &format!(
                "Content-Range: bytes {start}-{}/{size}\r\n",
                end.saturating_sub(1)
            );
        }
        let body = |from: u64, to: u64| -> Vec<u8> { (from..to).map(pattern).collect() };
        let half = start + len / 2;
        match fault {
            Fault::Normal => {
                let _ = sock.write_all(format!("{headers}\r\n").as_bytes()).await;
                if sock.write_all(&body(start, end)).await.is_err() {
                    return;
                }
            }
            Fault::Status503 | Fault::Refuse(_) => {
                if let Fault::Refuse(d) = fault {
                    let (done, closed) = tokio::sync::oneshot::channel();
                    let _ = refuse.send((d, done));
                    let _ = closed.await;
                }
                let _ = sock
                    .write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                return;
            }
            Fault::Status(code) => {
                let _ = sock
                    .write_all(
                        format!("HTTP/1.1 {code} Odd\r\nContent-Length: 0\r\n\r\n").as_bytes(),
                    )
                    .await;
            }
            Fault::ChunkedNoEnd => {
                let head = headers.replace(
                    &format!("Content-Length: {len}\r\n"),
                    "Transfer-Encoding: chunked\r\n",
                );
                let _ = sock.write_all(format!("{head}\r\n").as_bytes()).await;
                let _ = sock.write_all(format!("{len:x}\r\n").as_bytes()).await;
                let _ = sock.write_all(&body(start, end)).await;
                let _ = sock.write_all(b"\r\n").await;
                let _ = sock.flush().await;
                return;
            }
            Fault::Trickle(over) => {
                let _ = sock.write_all(format!("{headers}\r\n").as_bytes()).await;
                let step = len.div_ceil(10);
                for k in 0..10 {
                    tokio::time::sleep(over / 10).await;
                    let from = start + k * step;
                    let to = (from + step).min(end);
                    if from >= to || sock.write_all(&body(from, to)).await.is_err() {
                        break;
                    }
                    let _ = sock.flush().await;
                }
            }
            Fault::RedirectElsewhere => {
                let _ = sock
                    .write_all(b"HTTP/1.1 302 Found\r\nLocation: http://elsewhere.invalid/x\r\nContent-Length: 0\r\n\r\n")
                    .await;
            }
            Fault::ResetMidBody | Fault::ShortBody | Fault::Stall => {
                let _ = sock.write_all(format!("{headers}\r\n").as_bytes()).await;
                let _ = sock.write_all(&body(start, half)).await;
                let _ = sock.flush().await;
                match fault {
                    Fault::ResetMidBody => {
                        // Let the bytes reach the client before the reset.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        let _ = sock.set_zero_linger();
                    }
                    Fault::Stall => tokio::time::sleep(Duration::from_secs(30)).await,
                    _ => {}
                }
                return;
            }
        }
    }
}

/// Waits for a path to exist (a result folder being written).
pub fn wait_for(path: &Path, limit: Duration) -> bool {
    let t0 = Instant::now();
    while !path.exists() {
        if t0.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}
