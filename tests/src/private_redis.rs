//! A private `redis-server` on a free loopback port, for tests that need Redis to die and come
//! back. The shared server is never stopped, flushed or reconfigured by a test.

use anyhow::Result;
use std::process::Child;

pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
    dir: std::path::PathBuf,
}

impl PrivateRedis {
    pub fn start() -> Result<Self> {
        let port = urr_edge::devstack::free_port()?;
        let dir = std::env::temp_dir().join(format!("urr-private-redis-{port}"));
        std::fs::create_dir_all(&dir)?;
        let mut redis = Self {
            port,
            child: None,
            dir,
        };
        redis.restart()?;
        Ok(redis)
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
