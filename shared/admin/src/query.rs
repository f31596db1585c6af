//! Query strings of the admin list routes. Paging is strict here (the public catalog clamps):
//! an operator's tool that asks for page 0 or 10,000 rows has a bug worth a 400.

use crate::AdminError;
use crate::input::ReservationStatus;
use urr_catalog_domain::CatalogError;

/// Rows per page when the client does not say.
pub const DEFAULT_LIMIT: i64 = 20;
/// A screenful of rows; deeper exports are a database job, not an API call.
pub const MAX_LIMIT: i64 = 100;
/// A huge OFFSET makes Postgres walk and discard every row before it.
pub const MAX_PAGE: i64 = 10_000;
/// Audit filters name a resource type (`event`) or an id (a UUID is 36 characters).
pub const MAX_FILTER_CHARS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// 1-based.
    pub page: i64,
    pub limit: i64,
}

impl Paging {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.limit
    }
}

/// `GET /admin/reservations?page&limit&status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationQuery {
    pub status: Option<ReservationStatus>,
    pub paging: Paging,
}

/// `GET /admin/audit-log?page&limit&resourceType&resourceId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub paging: Paging,
}

/// The first value of each named parameter (blank counts as absent).
fn params<const N: usize>(raw: &str, names: [&str; N]) -> [Option<String>; N] {
    let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        if let Some(i) = names.iter().position(|n| *n == name) {
            let value = value.trim();
            if values[i].is_none() && !value.is_empty() {
                values[i] = Some(value.to_string());
            }
        }
    }
    values
}

fn bounded(text: Option<String>, default: i64, max: i64) -> Result<i64, ()> {
    match text {
        None => Ok(default),
        Some(t) => match t.parse::<i64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(()),
        },
    }
}

fn paging(page: Option<String>, limit: Option<String>) -> Result<Paging, AdminError> {
    Ok(Paging {
        page: bounded(page, 1, MAX_PAGE).map_err(|()| CatalogError::InvalidPage)?,
        limit: bounded(limit, DEFAULT_LIMIT, MAX_LIMIT).map_err(|()| CatalogError::InvalidLimit)?,
    })
}

impl ReservationQuery {
    pub fn parse(raw: &str) -> Result<Self, AdminError> {
        let [page, limit, status] = params(raw, ["page", "limit", "status"]);
        Ok(Self {
            status: status.map(|s| ReservationStatus::parse(&s)).transpose()?,
            paging: paging(page, limit)?,
        })
    }
}

impl AuditQuery {
    pub fn parse(raw: &str) -> Result<Self, AdminError> {
        let [
            page,
            limit,
            resource_type,
            resource_id,
            type_snake,
            id_snake,
        ] = params(
            raw,
            [
                "page",
                "limit",
                "resourceType",
                "resourceId",
                "resource_type",
                "resource_id",
            ],
        );
        let filter = |value: Option<String>, field| match value {
            Some(v) if v.chars().count() > MAX_FILTER_CHARS => Err(AdminError::TextTooLong {
                field,
                max: MAX_FILTER_CHARS,
            }),
            Some(v) if v.chars().any(char::is_control) => Err(AdminError::InvalidText(field)),
            other => Ok(other),
        };
        Ok(Self {
            resource_type: filter(resource_type.or(type_snake), "resourceType")?,
            resource_id: filter(resource_id.or(id_snake), "resourceId")?,
            paging: paging(page, limit)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_first_page_of_everything() {
        let q = ReservationQuery::parse("").expect("valid");
        assert_eq!(
            q.paging,
            Paging {
                page: 1,
                limit: DEFAULT_LIMIT
            }
        );
        assert_eq!(q.status, None);
        let q = ReservationQuery::parse("status=confirmed&page=3&limit=50").expect("valid");
        assert_eq!(q.status, Some(ReservationStatus::Confirmed));
        assert_eq!(q.paging.offset(), 100);
    }

    #[test]
    fn absurd_paging_and_unknown_statuses_are_400s() {
        for (raw, code) in [
            ("page=0", "invalid_page"),
            ("page=-1", "invalid_page"),
            ("page=10001", "invalid_page"),
            ("page=99999999999999999999", "invalid_page"),
            ("page=two", "invalid_page"),
            ("limit=0", "invalid_limit"),
            ("limit=101", "invalid_limit"),
            ("limit=1e3", "invalid_limit"),
            ("status=paid", "invalid_status"),
        ] {
            let err = ReservationQuery::parse(raw).expect_err(raw);
            assert_eq!(err.code(), code, "{raw}");
        }
    }

    #[test]
    fn audit_filters_are_bounded() {
        let q = AuditQuery::parse("resourceType=event&resource_id=abc").expect("valid");
        assert_eq!(q.resource_type.as_deref(), Some("event"));
        assert_eq!(q.resource_id.as_deref(), Some("abc"));
        let long = format!("resourceId={}", "x".repeat(MAX_FILTER_CHARS + 1));
        assert_eq!(
            AuditQuery::parse(&long).expect_err("long").code(),
            "text_too_long"
        );
    }
}
