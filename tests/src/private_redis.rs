//! A private `redis-server` on a free loopback port, for tests that need Redis to die and come
//! back. The shared server is never stopped, flushed or reconfigured by a test.

use anyhow::Result;
use std::process::Child;

/// Ports tried before giving up.
const START_ATTEMPTS: u32 = 3;

pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
    dir: std::path::PathBuf,
}

impl PrivateRedis {
    /// On a free port; tried again on another when the port was taken in between (ports are
    /// picked, then released, and tests start servers concurrently).
    pub fn start() -> Result<Self> {
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            let port = urr_edge::devstack::free_port()?;
            let dir = std::env::temp_dir().join(format!(
                "urr-private-redis-{port}-{}",
                uuid::Uuid::new_v4().simple()
            ));
            std::fs::create_dir_all(&dir)?;
            let mut redis = Self {
                port,
                child: None,
                dir,
            };
            match redis.restart() {
                Ok(()) => return Ok(redis),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no private redis-server started")))
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts (or starts again, on the same port) and waits until it answers.
    pub fn restart(&mut self) -> Result<()> {
        self.child = Some(urr_edge::devstack::spawn_redis(self.port, &self.dir)?);
        Ok(())
    }

    /// Kills the server (SIGKILL): connections drop at once, as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
