//! The run's history: every operation as `invoke` then `ok` / `fail` / `unknown`, with its time
//! since the start, the process that ran it (a buyer, the admin, the nemesis), its arguments and
//! its result, written to a JSON-lines file as it happens and kept in memory for the checkers.
//!
//! - `ok`: the system acknowledged it (2xx): its effect must be there at the end;
//! - `fail`: the system refused it (4xx) or it was never sent: it must have no effect;
//! - `unknown`: no definite answer (a transport error after sending, a timeout, a 5xx): either.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Invoke,
    Ok,
    Fail,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub index: u64,
    /// Milliseconds since the run started.
    pub time_ms: u64,
    pub process: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub op: String,
    #[serde(default)]
    pub args: Value,
    #[serde(default)]
    pub result: Value,
}

impl Event {
    /// Whether the event names `needle` (an id, a key) in its arguments or result.
    pub fn mentions(&self, needle: &str) -> bool {
        self.args.to_string().contains(needle) || self.result.to_string().contains(needle)
    }
}

struct Inner {
    file: Option<std::io::BufWriter<std::fs::File>>,
    events: Vec<Event>,
}

/// A shared, append-only history.
#[derive(Clone)]
pub struct History {
    started: Instant,
    inner: Arc<Mutex<Inner>>,
}

impl History {
    /// A history written to `path` (JSON lines) as well as kept in memory.
    pub fn create(path: &Path) -> Result<Self> {
        let file = std::fs::File::create(path)
            .with_context(|| format!("creating the history {}", path.display()))?;
        Ok(Self {
            started: Instant::now(),
            inner: Arc::new(Mutex::new(Inner {
                file: Some(std::io::BufWriter::new(file)),
                events: Vec::new(),
            })),
        })
    }

    /// A history kept in memory only (tests).
    pub fn in_memory() -> Self {
        Self {
            started: Instant::now(),
            inner: Arc::new(Mutex::new(Inner {
                file: None,
                events: Vec::new(),
            })),
        }
    }

    pub fn record(&self, process: &str, kind: Kind, op: &str, args: Value, result: Value) {
        let time_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let event = Event {
            index: inner.events.len() as u64,
            time_ms,
            process: process.to_string(),
            kind,
            op: op.to_string(),
            args,
            result,
        };
        if let Some(file) = &mut inner.file
            && let Ok(line) = serde_json::to_string(&event)
        {
            let _ = writeln!(file, "{line}");
        }
        inner.events.push(event);
    }

    pub fn flush(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(file) = &mut inner.file {
            let _ = file.flush();
        }
    }

    pub fn events(&self) -> Vec<Event> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .events
            .clone()
    }
}

/// Reads a history file back (for checking a recorded run again).
pub fn read(path: &Path) -> Result<Vec<Event>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the history {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).context("a history line is not an event"))
        .collect()
}

/// The events that mention `needle`, at most `max` (the first ones and the last ones).
/// A needle `#<index>` names one event: the excerpt is it and the events just before it.
pub fn excerpt<'a>(events: &'a [Event], needle: &str, max: usize) -> Vec<&'a Event> {
    if let Some(index) = needle
        .strip_prefix('#')
        .and_then(|i| i.parse::<usize>().ok())
    {
        let end = (index + 1).min(events.len());
        return events[end.saturating_sub(max.min(4))..end].iter().collect();
    }
    let hits: Vec<&Event> = events.iter().filter(|e| e.mentions(needle)).collect();
    if hits.len() <= max {
        return hits;
    }
    let head = max / 2;
    let tail = max - head;
    hits[..head]
        .iter()
        .chain(hits[hits.len() - tail..].iter())
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_round_trip_through_the_file() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("urr-chaos-history-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("history.jsonl");
        let history = History::create(&path)?;
        history.record(
            "buyer-1",
            Kind::Invoke,
            "reserve",
            json!({"key": "k1"}),
            Value::Null,
        );
        history.record(
            "buyer-1",
            Kind::Ok,
            "reserve",
            json!({"key": "k1"}),
            json!({"id": "r1"}),
        );
        history.flush();
        let events = read(&path)?;
        assert_eq!(events, history.events());
        assert_eq!(events[1].kind, Kind::Ok);
        assert_eq!(excerpt(&events, "r1", 5).len(), 1);
        assert_eq!(excerpt(&events, "k1", 1).len(), 1);
        assert_eq!(excerpt(&events, "#1", 8), vec![&events[0], &events[1]]);
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
