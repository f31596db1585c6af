//! A TCP fault proxy between the host and one store or the provider: it forwards both ways and,
//! on the nemesis' word, adds latency to every chunk, resets every connection (and refuses new
//! ones), or black-holes them (nothing flows until healed; new connections are accepted and
//! then hang).

use anyhow::Result;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pass,
    /// Every chunk waits this many milliseconds.
    Delay(u64),
    /// Nothing flows in either direction until the mode changes.
    Blackhole,
    /// Every open connection is reset; new ones are closed at once.
    Reset,
}

pub struct Proxy {
    pub port: u16,
    mode: watch::Sender<Mode>,
    task: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let (mode, watcher) = watch::channel(Mode::Pass);
        let task = tokio::spawn(accept(listener, upstream, watcher));
        Ok(Self { port, mode, task })
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    pub fn mode(&self) -> Mode {
        *self.mode.borrow()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, upstream: SocketAddr, mode: watch::Receiver<Mode>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        while connections.try_join_next().is_some() {}
        let mode = mode.clone();
        connections.spawn(async move {
            let _ = connection(client, upstream, mode).await;
        });
    }
}

/// Closing the socket sends a reset (SO_LINGER 0), as a crashed peer or a middlebox would.
#[expect(
    deprecated,
    reason = "a zero linger never blocks on drop: it resets the connection, which is the point"
)]
fn reset_on_close(stream: &TcpStream) {
    let _ = stream.set_linger(Some(std::time::Duration::ZERO));
}

/// Waits until data may flow: `Err` when the connection must be reset.
async fn passable(mode: &mut watch::Receiver<Mode>) -> Result<(), ()> {
    loop {
        let current = *mode.borrow_and_update();
        match current {
            Mode::Pass => return Ok(()),
            Mode::Delay(ms) => {
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                return Ok(());
            }
            Mode::Reset => return Err(()),
            Mode::Blackhole => {
                if mode.changed().await.is_err() {
                    return Err(());
                }
            }
        }
    }
}

async fn connection(
    client: TcpStream,
    upstream: SocketAddr,
    mut mode: watch::Receiver<Mode>,
) -> Result<(), ()> {
    if *mode.borrow() == Mode::Reset {
        reset_on_close(&client);
        return Err(());
    }
    passable(&mut mode).await?;
    let server = TcpStream::connect(upstream).await.map_err(|_| ())?;
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    reset_on_close(&client);
    reset_on_close(&server);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pump(cr, sw, mode.clone());
    let down = pump(sr, cw, mode.clone());
    let reset = async {
        loop {
            if *mode.borrow_and_update() == Mode::Reset {
                return;
            }
            if mode.changed().await.is_err() {
                return;
            }
        }
    };
    // Whichever ends first ends the connection (dropping both halves: with linger 0, a reset).
    tokio::select! {
        _ = up => {},
        _ = down => {},
        _ = reset => {},
    }
    Ok(())
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if passable(&mut mode).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn echo_server() -> Result<SocketAddr> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Ok(addr)
    }

    async fn round_trip(port: u16) -> Option<Vec<u8>> {
        let attempt = async {
            let mut s = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
            s.write_all(b"ping").await.ok()?;
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await.ok()?;
            Some(buf.to_vec())
        };
        tokio::time::timeout(Duration::from_millis(500), attempt)
            .await
            .ok()
            .flatten()
    }

    #[tokio::test]
    async fn forwards_delays_blackholes_and_resets() -> Result<()> {
        let proxy = Proxy::start(echo_server().await?).await?;
        assert_eq!(round_trip(proxy.port).await.as_deref(), Some(&b"ping"[..]));
        proxy.set(Mode::Delay(700));
        assert_eq!(
            round_trip(proxy.port).await,
            None,
            "slower than the client waits"
        );
        proxy.set(Mode::Blackhole);
        assert_eq!(round_trip(proxy.port).await, None);
        proxy.set(Mode::Reset);
        assert_eq!(round_trip(proxy.port).await, None);
        proxy.set(Mode::Pass);
        assert_eq!(round_trip(proxy.port).await.as_deref(), Some(&b"ping"[..]));
        assert_eq!(proxy.mode(), Mode::Pass);
        Ok(())
    }
}
