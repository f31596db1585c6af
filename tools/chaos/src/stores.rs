//! Private stores for one run, on free loopback ports, that the nemesis may kill and restart:
//! a `redis-server` (append-only file, fsync always, so a restart keeps what was acknowledged
//! unless the nemesis deletes its files: a restart "empty") and a PostgreSQL cluster of its own
//! (`initdb` in the run's scratch folder, as the `postgres` user when we are root; stopped with
//! `-m immediate`, a crash, and started again). The shared servers are never touched.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct PrivateRedis {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateRedis {
    pub fn start(scratch: &Path) -> Result<Self> {
        let port = urr_edge::devstack::free_port()?;
        let dir = scratch.join("redis");
        std::fs::create_dir_all(&dir)?;
        let mut redis = Self {
            port,
            dir,
            child: None,
        };
        redis.spawn()?;
        Ok(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("redis.log"))?;
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting redis-server")?;
        if let Err(e) = urr_edge::devstack::wait_for_own_redis(self.port, &mut child) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL: connections drop at once, as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Killed and started again; `empty`: its files are deleted first (data loss).
    pub fn restart(&mut self, empty: bool) -> Result<()> {
        self.kill();
        if empty {
            let _ = std::fs::remove_dir_all(self.dir.join("appendonlydir"));
            let _ = std::fs::remove_file(self.dir.join("dump.rdb"));
        }
        self.spawn()
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct PrivatePostgres {
    pub port: u16,
    bin: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    running: bool,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n") || o.stdout == b"0")
        .unwrap_or(false)
}

/// A PostgreSQL binary, as the `postgres` user when we are root (postgres refuses root).
fn postgres_command(binary: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(binary);
        c
    } else {
        Command::new(binary)
    }
}

impl PrivatePostgres {
    pub fn start(scratch: &Path) -> Result<Self> {
        let bin = urr_edge::devstack::postgres_bin()?;
        let dir = scratch.join("pg");
        let data = dir.join("data");
        std::fs::create_dir_all(&dir)?;
        if is_root() {
            let _ = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(&dir)
                .status();
            let _ = Command::new("chmod").arg("o+x").arg(scratch).status();
        }
        let status = postgres_command(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "--no-sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .context("running initdb")?;
        if !status.success() {
            bail!("initdb failed ({status})");
        }
        let mut pg = Self {
            port: urr_edge::devstack::free_port()?,
            bin,
            dir,
            data,
            running: false,
        };
        pg.spawn()?;
        Ok(pg)
    }

    /// The superuser on the `postgres` database.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self) -> Command {
        let mut c = postgres_command(&self.bin.join("pg_ctl"));
        c.arg("-D")
            .arg(&self.data)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    fn spawn(&mut self) -> Result<()> {
        let status = self
            .pg_ctl()
            .arg("-l")
            .arg(self.dir.join("postgres.log"))
            .arg("-o")
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                self.port,
                self.dir.display()
            ))
            .args(["-w", "-t", "60", "start"])
            .status()
            .context("running pg_ctl start")?;
        // A start that timed out may still have a postmaster running: stop it on drop either way.
        self.running = true;
        if !status.success() {
            bail!(
                "the private postgres did not start ({status}); see {}",
                self.dir.join("postgres.log").display()
            );
        }
        self.running = true;
        Ok(())
    }

    /// `pg_ctl stop -m immediate`: every backend is killed without a checkpoint, as in a crash.
    pub fn crash(&mut self) {
        if self.running {
            let _ = self
                .pg_ctl()
                .args(["stop", "-m", "immediate", "-w"])
                .status();
            self.running = false;
        }
    }

    /// Crashed and started again (crash recovery replays the WAL).
    pub fn restart(&mut self) -> Result<()> {
        self.crash();
        self.spawn()
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.crash();
    }
}
