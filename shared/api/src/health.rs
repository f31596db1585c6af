//! Readiness: which dependencies answered, and what the probe should say about it.
//!
//! `/health` is shallow (the process serves); `/health/ready` asks Redis and Postgres. The decision
//! of what to answer is pure, so it is tested here without any store.

use serde::Serialize;
use std::collections::BTreeMap;

/// How long a readiness caller should wait before asking again when a dependency is down.
pub const READY_RETRY_AFTER_SECS: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dependency {
    Redis,
    Postgres,
}

impl Dependency {
    pub fn name(self) -> &'static str {
        match self {
            Dependency::Redis => "redis",
            Dependency::Postgres => "postgres",
        }
    }
}

/// The outcome of probing one dependency. The reason is for logs only: it never reaches clients,
/// because a connection error can carry addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyStatus {
    Ok,
    Down { reason: String },
}

/// What `/health/ready` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    #[serde(skip)]
    pub http_status: u16,
    pub status: &'static str,
    pub dependencies: BTreeMap<&'static str, &'static str>,
}

impl Readiness {
    /// Ready only when every dependency answered. The body names each dependency as "ok" or "down".
    pub fn from_checks(checks: &[(Dependency, DependencyStatus)]) -> Self {
        let dependencies: BTreeMap<_, _> = checks
            .iter()
            .map(|(dep, status)| {
                let word = match status {
                    DependencyStatus::Ok => "ok",
                    DependencyStatus::Down { .. } => "down",
                };
                (dep.name(), word)
            })
            .collect();
        let all_ok = checks.iter().all(|(_, s)| *s == DependencyStatus::Ok);
        Readiness {
            http_status: if all_ok { 200 } else { 503 },
            status: if all_ok { "ok" } else { "unavailable" },
            dependencies,
        }
    }

    pub fn retry_after_secs(&self) -> Option<u32> {
        (self.http_status != 200).then_some(READY_RETRY_AFTER_SECS)
    }

    /// Names of the dependencies that are down, for the error message.
    pub fn down(&self) -> Vec<&'static str> {
        self.dependencies
            .iter()
            .filter(|(_, s)| **s == "down")
            .map(|(d, _)| *d)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_when_every_dependency_answers() {
        let r = Readiness::from_checks(&[
            (Dependency::Redis, DependencyStatus::Ok),
            (Dependency::Postgres, DependencyStatus::Ok),
        ]);
        assert_eq!(r.http_status, 200);
        assert_eq!(r.status, "ok");
        assert_eq!(r.retry_after_secs(), None);
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"status":"ok","dependencies":{"redis":"ok","postgres":"ok"}})
        );
    }

    #[test]
    fn one_dependency_down_makes_the_probe_503_and_names_it() {
        let r = Readiness::from_checks(&[
            (
                Dependency::Redis,
                DependencyStatus::Down {
                    reason: "refused".into(),
                },
            ),
            (Dependency::Postgres, DependencyStatus::Ok),
        ]);
        assert_eq!(r.http_status, 503);
        assert_eq!(r.down(), vec!["redis"]);
        assert_eq!(r.retry_after_secs(), Some(READY_RETRY_AFTER_SECS));
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["dependencies"]["redis"], "down");
        assert_eq!(json["dependencies"]["postgres"], "ok");
    }
}
