//! Conversions between `spin:postgres@4.2.0` values and Postgres wire types (through sqlx).
//!
//! Every parameter variant binds as its own SQL type; every supported column type decodes to the
//! matching `db-value`, and anything else comes back as `unsupported(raw bytes)` rather than an
//! error, as Spin does. `db-null` binds as an untyped NULL so the server infers its type from
//! context: a NULL fits a column of any type.

// `pg::Error` is the interface's own error type: it goes back to the guest by value.
#![expect(
    clippy::result_large_err,
    reason = "pg::Error is the WIT interface's error type, returned to the guest as is"
)]

use super::pg;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::types::{Oid, PgInterval, PgRange};
use sqlx::postgres::{PgArgumentBuffer, PgRow, PgTypeInfo, PgValueRef, Postgres};
use sqlx::{Column as _, Row as _, TypeInfo as _, ValueRef as _};
use std::ops::Bound;
use std::str::FromStr;

/// A range as the interface carries it: optional (value, bound kind) at each end.
type WitRange<T> = (
    Option<(T, pg::RangeBoundKind)>,
    Option<(T, pg::RangeBoundKind)>,
);

pub type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// A NULL with no declared type (OID 0): Postgres infers it from the statement.
struct UntypedNull;

impl sqlx::Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl sqlx::Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(
        &self,
        _buf: &mut PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        Ok(sqlx::encode::IsNull::Yes)
    }
}

fn bad(what: &str, detail: impl std::fmt::Display) -> pg::Error {
    pg::Error::BadParameter(format!("invalid {what} parameter: {detail}"))
}

fn date(v: (i32, u8, u8)) -> Result<NaiveDate, pg::Error> {
    NaiveDate::from_ymd_opt(v.0, u32::from(v.1), u32::from(v.2))
        .ok_or_else(|| bad("date", format!("{v:?}")))
}

fn time(v: (u8, u8, u8, u32)) -> Result<NaiveTime, pg::Error> {
    NaiveTime::from_hms_nano_opt(u32::from(v.0), u32::from(v.1), u32::from(v.2), v.3)
        .ok_or_else(|| bad("time", format!("{v:?}")))
}

fn decimal(s: &str) -> Result<Decimal, pg::Error> {
    Decimal::from_str_exact(s)
        .or_else(|_| Decimal::from_str(s))
        .map_err(|e| bad("decimal", e))
}

fn bound<T, U>(
    b: Option<(T, pg::RangeBoundKind)>,
    f: impl Fn(T) -> Result<U, pg::Error>,
) -> Result<Bound<U>, pg::Error> {
    Ok(match b {
        None => Bound::Unbounded,
        Some((v, pg::RangeBoundKind::Inclusive)) => Bound::Included(f(v)?),
        Some((v, pg::RangeBoundKind::Exclusive)) => Bound::Excluded(f(v)?),
    })
}

fn range<T, U>(
    r: WitRange<T>,
    f: impl Fn(T) -> Result<U, pg::Error>,
) -> Result<PgRange<U>, pg::Error> {
    Ok(PgRange {
        start: bound(r.0, &f)?,
        end: bound(r.1, &f)?,
    })
}

pub fn bind_params(
    mut q: PgQuery<'_>,
    params: Vec<pg::ParameterValue>,
) -> Result<PgQuery<'_>, pg::Error> {
    use pg::ParameterValue as P;
    for p in params {
        q = match p {
            P::Boolean(v) => q.bind(v),
            P::Int8(v) => q.bind(v),
            P::Int16(v) => q.bind(v),
            P::Int32(v) => q.bind(v),
            P::Int64(v) => q.bind(v),
            P::Floating32(v) => q.bind(v),
            P::Floating64(v) => q.bind(v),
            P::Str(v) => q.bind(v),
            P::Binary(v) => q.bind(v),
            P::Date(v) => q.bind(date(v)?),
            P::Time(v) => q.bind(time(v)?),
            P::Datetime((y, mo, d, h, mi, s, ns)) => {
                q.bind(NaiveDateTime::new(date((y, mo, d))?, time((h, mi, s, ns))?))
            }
            P::Timestamp(secs) => q.bind(
                DateTime::<Utc>::from_timestamp(secs, 0).ok_or_else(|| bad("timestamp", secs))?,
            ),
            P::Uuid(s) => q.bind(uuid::Uuid::parse_str(&s).map_err(|e| bad("uuid", e))?),
            P::Jsonb(bytes) => {
                let value: serde_json::Value =
                    serde_json::from_slice(&bytes).map_err(|e| bad("jsonb", e))?;
                q.bind(sqlx::types::Json(value))
            }
            P::Decimal(s) => q.bind(decimal(&s)?),
            P::RangeInt32(r) => q.bind(range(r, Ok)?),
            P::RangeInt64(r) => q.bind(range(r, Ok)?),
            P::RangeDecimal(r) => q.bind(range(r, |s: String| decimal(&s))?),
            P::ArrayInt32(v) => q.bind(v),
            P::ArrayInt64(v) => q.bind(v),
            P::ArrayDecimal(v) => q.bind(
                v.iter()
                    .map(|o| o.as_deref().map(decimal).transpose())
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            P::ArrayStr(v) => q.bind(v),
            P::Interval(i) => q.bind(PgInterval {
                months: i.months,
                days: i.days,
                microseconds: i.micros,
            }),
            P::DbNull => q.bind(UntypedNull),
        };
    }
    Ok(q)
}

/// The `db-data-type` of a column, from its Postgres type name.
pub fn column_type(name: &str) -> pg::DbDataType {
    use pg::DbDataType as D;
    match name {
        "BOOL" => D::Boolean,
        "\"CHAR\"" => D::Int8,
        "INT2" => D::Int16,
        "INT4" => D::Int32,
        "INT8" => D::Int64,
        "FLOAT4" => D::Floating32,
        "FLOAT8" => D::Floating64,
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CITEXT" => D::Str,
        "BYTEA" => D::Binary,
        "DATE" => D::Date,
        "TIME" => D::Time,
        "TIMESTAMP" => D::Datetime,
        "TIMESTAMPTZ" => D::Timestamp,
        "UUID" => D::Uuid,
        "JSONB" | "JSON" => D::Jsonb,
        "NUMERIC" => D::Decimal,
        "INT4RANGE" => D::RangeInt32,
        "INT8RANGE" => D::RangeInt64,
        "NUMRANGE" => D::RangeDecimal,
        "INT4[]" => D::ArrayInt32,
        "INT8[]" => D::ArrayInt64,
        "NUMERIC[]" => D::ArrayDecimal,
        "TEXT[]" | "VARCHAR[]" => D::ArrayStr,
        "INTERVAL" => D::Interval,
        other => D::Other(other.to_string()),
    }
}

pub fn columns(row: &PgRow) -> Vec<pg::Column> {
    row.columns()
        .iter()
        .map(|c| pg::Column {
            name: c.name().to_string(),
            data_type: column_type(c.type_info().name()),
        })
        .collect()
}

fn range_out<T, U>(r: PgRange<T>, f: impl Fn(T) -> U) -> WitRange<U> {
    let conv = |b: Bound<T>| match b {
        Bound::Included(v) => Some((f(v), pg::RangeBoundKind::Inclusive)),
        Bound::Excluded(v) => Some((f(v), pg::RangeBoundKind::Exclusive)),
        Bound::Unbounded => None,
    };
    (conv(r.start), conv(r.end))
}

fn raw_bytes(raw: &PgValueRef<'_>) -> Vec<u8> {
    raw.as_bytes().map(<[u8]>::to_vec).unwrap_or_default()
}

pub fn decode_row(row: &PgRow) -> Result<Vec<pg::DbValue>, pg::Error> {
    use pg::DbValue as V;
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let raw = row
            .try_get_raw(i)
            .map_err(|e| pg::Error::ValueConversionFailed(e.to_string()))?;
        if raw.is_null() {
            out.push(V::DbNull);
            continue;
        }
        let conv = |e: sqlx::Error| {
            pg::Error::ValueConversionFailed(format!("column `{}`: {e}", col.name()))
        };
        let value = match col.type_info().name() {
            "BOOL" => V::Boolean(row.try_get(i).map_err(conv)?),
            "\"CHAR\"" => V::Int8(row.try_get(i).map_err(conv)?),
            "INT2" => V::Int16(row.try_get(i).map_err(conv)?),
            "INT4" => V::Int32(row.try_get(i).map_err(conv)?),
            "INT8" => V::Int64(row.try_get(i).map_err(conv)?),
            "FLOAT4" => V::Floating32(row.try_get(i).map_err(conv)?),
            "FLOAT8" => V::Floating64(row.try_get(i).map_err(conv)?),
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => V::Str(row.try_get(i).map_err(conv)?),
            // citext's binary form is its text.
            "CITEXT" => V::Str(String::from_utf8_lossy(&raw_bytes(&raw)).into_owned()),
            "BYTEA" => V::Binary(row.try_get(i).map_err(conv)?),
            "DATE" => {
                let d: NaiveDate = row.try_get(i).map_err(conv)?;
                V::Date((d.year(), d.month() as u8, d.day() as u8))
            }
            "TIME" => {
                let t: NaiveTime = row.try_get(i).map_err(conv)?;
                V::Time((
                    t.hour() as u8,
                    t.minute() as u8,
                    t.second() as u8,
                    t.nanosecond(),
                ))
            }
            "TIMESTAMP" => {
                let t: NaiveDateTime = row.try_get(i).map_err(conv)?;
                V::Datetime((
                    t.year(),
                    t.month() as u8,
                    t.day() as u8,
                    t.hour() as u8,
                    t.minute() as u8,
                    t.second() as u8,
                    t.nanosecond(),
                ))
            }
            // Spin's `timestamp` is whole seconds since the Unix epoch.
            "TIMESTAMPTZ" => V::Timestamp(
                row.try_get::<DateTime<Utc>, _>(i)
                    .map_err(conv)?
                    .timestamp(),
            ),
            "UUID" => V::Uuid(row.try_get::<uuid::Uuid, _>(i).map_err(conv)?.to_string()),
            "JSONB" | "JSON" => {
                let v: sqlx::types::Json<Box<serde_json::value::RawValue>> =
                    row.try_get(i).map_err(conv)?;
                V::Jsonb(v.0.get().as_bytes().to_vec())
            }
            "NUMERIC" => match row.try_get::<Decimal, _>(i) {
                Ok(d) => V::Decimal(d.to_string()),
                // NaN and values beyond 28 significant digits do not fit rust_decimal.
                Err(_) => V::Unsupported(raw_bytes(&raw)),
            },
            "INT4RANGE" => V::RangeInt32(range_out(
                row.try_get::<PgRange<i32>, _>(i).map_err(conv)?,
                |v| v,
            )),
            "INT8RANGE" => V::RangeInt64(range_out(
                row.try_get::<PgRange<i64>, _>(i).map_err(conv)?,
                |v| v,
            )),
            "NUMRANGE" => V::RangeDecimal(range_out(
                row.try_get::<PgRange<Decimal>, _>(i).map_err(conv)?,
                |d| d.to_string(),
            )),
            "INT4[]" => V::ArrayInt32(row.try_get(i).map_err(conv)?),
            "INT8[]" => V::ArrayInt64(row.try_get(i).map_err(conv)?),
            "NUMERIC[]" => {
                let v: Vec<Option<Decimal>> = row.try_get(i).map_err(conv)?;
                V::ArrayDecimal(v.into_iter().map(|d| d.map(|d| d.to_string())).collect())
            }
            "TEXT[]" | "VARCHAR[]" => V::ArrayStr(row.try_get(i).map_err(conv)?),
            "INTERVAL" => {
                let v: PgInterval = row.try_get(i).map_err(conv)?;
                V::Interval(pg::Interval {
                    micros: v.microseconds,
                    days: v.days,
                    months: v.months,
                })
            }
            _ => V::Unsupported(raw_bytes(&raw)),
        };
        out.push(value);
    }
    Ok(out)
}

/// Maps a sqlx error to the interface's error, keeping SQLSTATE, severity and message.
pub fn to_error(e: sqlx::Error) -> pg::Error {
    match e {
        sqlx::Error::Database(db) => {
            let as_text = db.to_string();
            match db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                Some(pe) => pg::Error::QueryFailed(pg::QueryError::DbError(pg::DbError {
                    as_text,
                    severity: format!("{:?}", pe.severity()).to_uppercase(),
                    code: pe.code().to_string(),
                    message: pe.message().to_string(),
                    detail: pe.detail().map(str::to_string),
                    extras: [
                        ("hint", pe.hint()),
                        ("constraint", pe.constraint()),
                        ("table", pe.table()),
                        ("column", pe.column()),
                    ]
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string())))
                    .collect(),
                })),
                None => pg::Error::QueryFailed(pg::QueryError::Text(as_text)),
            }
        }
        sqlx::Error::PoolTimedOut => {
            pg::Error::ConnectionFailed("timed out waiting for a database connection".into())
        }
        sqlx::Error::Io(e) => {
            pg::Error::ConnectionFailed(format!("database connection failed: {e}"))
        }
        sqlx::Error::Tls(e) => pg::Error::ConnectionFailed(format!("database TLS failed: {e}")),
        sqlx::Error::Encode(e) => pg::Error::BadParameter(e.to_string()),
        other => pg::Error::QueryFailed(pg::QueryError::Text(other.to_string())),
    }
}
