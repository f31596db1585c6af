//! Conversions between `spin:postgres@4.2.0` values and Postgres wire types (through sqlx),
//! binding and decoding exactly as Spin does (its `factor-outbound-pg` crate on tokio-postgres).
//!
//! Binding: each parameter is first converted to the Rust value Spin boxes for it (a bad UUID,
//! decimal, JSON, date or time fails here, before anything reaches the server). The statement is
//! then prepared with no parameter types, so the server infers them from the SQL, and each value
//! must be one `postgres-types` accepts for the inferred type (its `ToSql::accepts`): a `str`
//! for a `uuid` is refused (`WrongType`), so is an `int32` for an `int8`; `db-null` fits
//! anything. Accepted values are sent with the inferred type.
//!
//! Decoding: the column types Spin converts come back as their `db-value`; a `timestamptz` column
//! fails the whole query (Spin reads it as `NaiveDateTime`, which `postgres-types` refuses for
//! `timestamptz`); every other type (`name`, `"char"`, `json`, `citext`, enums, ...) comes back as
//! `unsupported(raw bytes)` with `db-data-type` `other(type name)`.

// `pg::Error` is the interface's own error type: it goes back to the guest by value.
#![expect(
    clippy::result_large_err,
    reason = "pg::Error is the WIT interface's error type, returned to the guest as is"
)]

use super::pg;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::types::{Oid, PgInterval, PgRange};
use sqlx::postgres::{PgArgumentBuffer, PgRow, PgTypeInfo, PgTypeKind, PgValueRef, Postgres};
use sqlx::{Column as _, Encode, Row as _, TypeInfo as _, ValueRef as _};
use std::ops::Bound;

/// A range as the interface carries it: optional (value, bound kind) at each end.
type WitRange<T> = (
    Option<(T, pg::RangeBoundKind)>,
    Option<(T, pg::RangeBoundKind)>,
);

pub type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// Built-in type OIDs (stable across servers: Postgres' own `pg_type.dat`).
mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const JSON: u32 = 114;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const UNKNOWN: u32 = 705;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const INTERVAL: u32 = 1186;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

/// Type names `postgres-types` also takes as text (`&str`'s `accepts`), besides the OIDs.
const TEXT_LIKE_NAMES: [&str; 4] = ["citext", "ltree", "lquery", "ltxtquery"];

/// A parameter as the Rust value Spin binds for it.
#[derive(Debug, Clone)]
pub enum Param {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Text(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    Time(NaiveTime),
    Datetime(NaiveDateTime),
    Timestamp(DateTime<Utc>),
    Uuid(uuid::Uuid),
    Json(sqlx::types::Json<serde_json::Value>),
    Decimal(Decimal),
    RangeI32(PgRange<i32>),
    RangeI64(PgRange<i64>),
    RangeDecimal(PgRange<Decimal>),
    ArrayI32(Vec<Option<i32>>),
    ArrayI64(Vec<Option<i64>>),
    ArrayDecimal(Vec<Option<Decimal>>),
    ArrayText(Vec<Option<String>>),
    Interval(PgInterval),
    Null,
}

fn oid_of(ty: &PgTypeInfo) -> Option<u32> {
    ty.oid().map(|o| o.0)
}

/// `&str`/`String`'s `accepts` in `postgres-types`.
fn text_like(ty: &PgTypeInfo) -> bool {
    matches!(
        oid_of(ty),
        Some(oid::VARCHAR | oid::TEXT | oid::BPCHAR | oid::NAME | oid::UNKNOWN)
    ) || TEXT_LIKE_NAMES.contains(&ty.name())
}

fn array_of(ty: &PgTypeInfo, element: impl Fn(&PgTypeInfo) -> bool) -> bool {
    matches!(ty.kind(), PgTypeKind::Array(e) if element(e))
}

fn range_of(ty: &PgTypeInfo, element: u32) -> bool {
    matches!(ty.kind(), PgTypeKind::Range(e) if oid_of(e) == Some(element))
}

impl Param {
    /// Whether `postgres-types` accepts this value for a parameter of type `ty` (the Rust types
    /// Spin boxes: `bool`, `i8` for `"char"`, ..., `NaiveDateTime` for `timestamp` only,
    /// `DateTime<Utc>` for `timestamptz` only, `serde_json::Value` for `json` and `jsonb`).
    pub fn accepts(&self, ty: &PgTypeInfo) -> bool {
        let is = |want: u32| oid_of(ty) == Some(want);
        match self {
            Self::Bool(_) => is(oid::BOOL),
            Self::I8(_) => is(oid::CHAR),
            Self::I16(_) => is(oid::INT2),
            Self::I32(_) => is(oid::INT4),
            Self::I64(_) => is(oid::INT8),
            Self::F32(_) => is(oid::FLOAT4),
            Self::F64(_) => is(oid::FLOAT8),
            Self::Text(_) => text_like(ty),
            Self::Bytes(_) => is(oid::BYTEA),
            Self::Date(_) => is(oid::DATE),
            Self::Time(_) => is(oid::TIME),
            Self::Datetime(_) => is(oid::TIMESTAMP),
            Self::Timestamp(_) => is(oid::TIMESTAMPTZ),
            Self::Uuid(_) => is(oid::UUID),
            Self::Json(_) => is(oid::JSON) || is(oid::JSONB),
            Self::Decimal(_) => is(oid::NUMERIC),
            Self::RangeI32(_) => range_of(ty, oid::INT4),
            Self::RangeI64(_) => range_of(ty, oid::INT8),
            Self::RangeDecimal(_) => range_of(ty, oid::NUMERIC),
            Self::ArrayI32(_) => array_of(ty, |e| oid_of(e) == Some(oid::INT4)),
            Self::ArrayI64(_) => array_of(ty, |e| oid_of(e) == Some(oid::INT8)),
            Self::ArrayDecimal(_) => array_of(ty, |e| oid_of(e) == Some(oid::NUMERIC)),
            Self::ArrayText(_) => array_of(ty, text_like),
            Self::Interval(_) => is(oid::INTERVAL),
            Self::Null => true,
        }
    }

    /// The Rust type Spin binds, as `tokio-postgres` names it in a `WrongType` error.
    pub fn rust_type(&self) -> &'static str {
        match self {
            Self::Bool(_) => "bool",
            Self::I8(_) => "i8",
            Self::I16(_) => "i16",
            Self::I32(_) => "i32",
            Self::I64(_) => "i64",
            Self::F32(_) => "f32",
            Self::F64(_) => "f64",
            Self::Text(_) => "alloc::string::String",
            Self::Bytes(_) => "alloc::vec::Vec<u8>",
            Self::Date(_) => "chrono::naive::date::NaiveDate",
            Self::Time(_) => "chrono::naive::time::NaiveTime",
            Self::Datetime(_) => "chrono::naive::datetime::NaiveDateTime",
            Self::Timestamp(_) => "chrono::datetime::DateTime<chrono::offset::utc::Utc>",
            Self::Uuid(_) => "uuid::Uuid",
            Self::Json(_) => "serde_json::value::Value",
            Self::Decimal(_) => "rust_decimal::decimal::Decimal",
            Self::RangeI32(_) => "postgres_range::Range<i32>",
            Self::RangeI64(_) => "postgres_range::Range<i64>",
            Self::RangeDecimal(_) => "postgres_range::Range<RangeableDecimal>",
            Self::ArrayI32(_) => "alloc::vec::Vec<core::option::Option<i32>>",
            Self::ArrayI64(_) => "alloc::vec::Vec<core::option::Option<i64>>",
            Self::ArrayDecimal(_) => {
                "alloc::vec::Vec<core::option::Option<rust_decimal::decimal::Decimal>>"
            }
            Self::ArrayText(_) => "alloc::vec::Vec<core::option::Option<alloc::string::String>>",
            Self::Interval(_) => "Interval",
            Self::Null => "PgNull",
        }
    }
}

/// The Postgres name of a type (`uuid`, `_int4`, `char`), as `tokio-postgres` prints it.
pub fn pg_type_name(ty: &PgTypeInfo) -> String {
    match ty.kind() {
        // Built-in names come upper case from sqlx; custom ones (enums, citext) as declared.
        PgTypeKind::Array(element) if ty.name().ends_with("[]") => {
            format!("_{}", pg_type_name(element))
        }
        _ if ty.name() == "\"CHAR\"" => "char".to_string(),
        _ => ty.name().to_ascii_lowercase(),
    }
}

fn conversion(what: &str, detail: impl std::fmt::Display) -> String {
    format!("invalid {what} {detail}")
}

fn date(v: (i32, u8, u8)) -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(v.0, u32::from(v.1), u32::from(v.2))
        .ok_or_else(|| format!("invalid date y={}, m={}, d={}", v.0, v.1, v.2))
}

fn time(v: (u8, u8, u8, u32)) -> Result<NaiveTime, String> {
    NaiveTime::from_hms_nano_opt(u32::from(v.0), u32::from(v.1), u32::from(v.2), v.3)
        .ok_or_else(|| format!("invalid time {}:{}:{}:{}", v.0, v.1, v.2, v.3))
}

/// Spin parses decimals exactly (`from_str_exact`): no rounding of over-long values.
fn decimal(s: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(s).map_err(|_| conversion("decimal", s))
}

fn bound<T, U>(
    b: Option<(T, pg::RangeBoundKind)>,
    f: impl Fn(T) -> Result<U, String>,
) -> Result<Bound<U>, String> {
    Ok(match b {
        None => Bound::Unbounded,
        Some((v, pg::RangeBoundKind::Inclusive)) => Bound::Included(f(v)?),
        Some((v, pg::RangeBoundKind::Exclusive)) => Bound::Excluded(f(v)?),
    })
}

fn range<T, U>(r: WitRange<T>, f: impl Fn(T) -> Result<U, String>) -> Result<PgRange<U>, String> {
    Ok(PgRange {
        start: bound(r.0, &f)?,
        end: bound(r.1, &f)?,
    })
}

/// Converts one parameter to the value Spin binds; the error text is Spin's conversion message.
fn convert(p: pg::ParameterValue) -> Result<Param, String> {
    use pg::ParameterValue as P;
    Ok(match p {
        P::Boolean(v) => Param::Bool(v),
        P::Int8(v) => Param::I8(v),
        P::Int16(v) => Param::I16(v),
        P::Int32(v) => Param::I32(v),
        P::Int64(v) => Param::I64(v),
        P::Floating32(v) => Param::F32(v),
        P::Floating64(v) => Param::F64(v),
        P::Str(v) => Param::Text(v),
        P::Binary(v) => Param::Bytes(v),
        P::Date(v) => Param::Date(date(v)?),
        P::Time(v) => Param::Time(time(v)?),
        P::Datetime((y, mo, d, h, mi, s, ns)) => {
            Param::Datetime(NaiveDateTime::new(date((y, mo, d))?, time((h, mi, s, ns))?))
        }
        P::Timestamp(secs) => Param::Timestamp(
            DateTime::<Utc>::from_timestamp(secs, 0)
                .ok_or_else(|| format!("invalid epoch timestamp {secs}"))?,
        ),
        P::Uuid(s) => Param::Uuid(uuid::Uuid::parse_str(&s).map_err(|_| conversion("UUID", &s))?),
        P::Jsonb(bytes) => Param::Json(sqlx::types::Json(
            serde_json::from_slice(&bytes)
                .map_err(|_| conversion("JSON", String::from_utf8_lossy(&bytes)))?,
        )),
        P::Decimal(s) => Param::Decimal(decimal(&s)?),
        P::RangeInt32(r) => Param::RangeI32(range(r, Ok)?),
        P::RangeInt64(r) => Param::RangeI64(range(r, Ok)?),
        P::RangeDecimal(r) => Param::RangeDecimal(range(r, |s: String| decimal(&s))?),
        P::ArrayInt32(v) => Param::ArrayI32(v),
        P::ArrayInt64(v) => Param::ArrayI64(v),
        P::ArrayDecimal(v) => Param::ArrayDecimal(
            v.iter()
                .map(|o| o.as_deref().map(decimal).transpose())
                .collect::<Result<Vec<_>, _>>()?,
        ),
        P::ArrayStr(v) => Param::ArrayText(v),
        P::Interval(i) => Param::Interval(PgInterval {
            months: i.months,
            days: i.days,
            microseconds: i.micros,
        }),
        P::DbNull => Param::Null,
    })
}

/// Which call converts: Spin reports a bad parameter of `query` as `bad-parameter` and one of
/// `execute` as `value-conversion-failed`.
#[derive(Debug, Clone, Copy)]
pub enum Call {
    Query,
    Execute,
}

/// Converts every parameter before the statement goes anywhere, as Spin does.
pub fn convert_params(
    params: Vec<pg::ParameterValue>,
    call: Call,
) -> Result<Vec<Param>, pg::Error> {
    params
        .into_iter()
        .map(convert)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| match call {
            Call::Query => pg::Error::BadParameter(e),
            Call::Execute => pg::Error::ValueConversionFailed(e),
        })
}

/// A converted parameter sent with the type the server inferred for it.
struct Typed {
    value: Param,
    ty: PgTypeInfo,
}

impl sqlx::Type<Postgres> for Typed {
    fn type_info() -> PgTypeInfo {
        // Never used: `produces` names the inferred type of each value.
        PgTypeInfo::with_oid(Oid(oid::UNKNOWN))
    }
}

/// A one-dimensional text array whose elements are of the parameter's own element type (a
/// `varchar[]` parameter gets `varchar` elements: the server checks the element OID).
fn encode_text_array(
    values: &[Option<String>],
    element: Oid,
    buf: &mut Vec<u8>,
) -> Result<(), sqlx::error::BoxDynError> {
    let len = i32::try_from(values.len())?;
    let dimensions: i32 = if values.is_empty() { 0 } else { 1 };
    buf.extend(dimensions.to_be_bytes());
    buf.extend(i32::from(values.iter().any(Option::is_none)).to_be_bytes());
    buf.extend(element.0.to_be_bytes());
    if dimensions == 1 {
        buf.extend(len.to_be_bytes());
        buf.extend(1i32.to_be_bytes()); // lower bound
    }
    for value in values {
        match value {
            None => buf.extend((-1i32).to_be_bytes()),
            Some(text) => {
                buf.extend(i32::try_from(text.len())?.to_be_bytes());
                buf.extend(text.as_bytes());
            }
        }
    }
    Ok(())
}

impl Encode<'_, Postgres> for Typed {
    fn produces(&self) -> Option<PgTypeInfo> {
        Some(self.ty.clone())
    }

    fn encode_by_ref(
        &self,
        buf: &mut PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        fn enc<T: for<'a> Encode<'a, Postgres>>(
            v: &T,
            buf: &mut PgArgumentBuffer,
        ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
            v.encode_by_ref(buf)
        }
        match &self.value {
            Param::Bool(v) => enc(v, buf),
            Param::I8(v) => enc(v, buf),
            Param::I16(v) => enc(v, buf),
            Param::I32(v) => enc(v, buf),
            Param::I64(v) => enc(v, buf),
            Param::F32(v) => enc(v, buf),
            Param::F64(v) => enc(v, buf),
            Param::Text(v) => enc(v, buf),
            Param::Bytes(v) => enc(v, buf),
            Param::Date(v) => enc(v, buf),
            Param::Time(v) => enc(v, buf),
            Param::Datetime(v) => enc(v, buf),
            Param::Timestamp(v) => enc(v, buf),
            Param::Uuid(v) => enc(v, buf),
            // sqlx writes jsonb's version byte and turns it into a space for a json parameter.
            Param::Json(v) => enc(v, buf),
            Param::Decimal(v) => enc(v, buf),
            Param::RangeI32(v) => enc(v, buf),
            Param::RangeI64(v) => enc(v, buf),
            Param::RangeDecimal(v) => enc(v, buf),
            Param::ArrayI32(v) => enc(v, buf),
            Param::ArrayI64(v) => enc(v, buf),
            Param::ArrayDecimal(v) => enc(v, buf),
            Param::ArrayText(v) => {
                let element = match self.ty.kind() {
                    PgTypeKind::Array(e) => e.oid().unwrap_or(Oid(oid::TEXT)),
                    _ => Oid(oid::TEXT),
                };
                encode_text_array(v, element, buf)?;
                Ok(sqlx::encode::IsNull::No)
            }
            Param::Interval(v) => enc(v, buf),
            Param::Null => Ok(sqlx::encode::IsNull::Yes),
        }
    }
}

/// Binds converted parameters against the types the server inferred for the statement, refusing
/// what `tokio-postgres` refuses: a wrong count, or a value its type does not accept (the error
/// text is `tokio-postgres`' own, which Spin passes on as `query-failed(text)`).
pub fn bind_params<'q>(
    mut q: PgQuery<'q>,
    params: Vec<Param>,
    types: &[PgTypeInfo],
) -> Result<PgQuery<'q>, pg::Error> {
    if params.len() != types.len() {
        return Err(pg::Error::QueryFailed(pg::QueryError::Text(format!(
            "Error {{ kind: Parameters({}, {}), cause: None }} (expected {} parameters but got {})",
            params.len(),
            types.len(),
            types.len(),
            params.len()
        ))));
    }
    for (i, (value, ty)) in params.into_iter().zip(types).enumerate() {
        if !value.accepts(ty) {
            return Err(pg::Error::QueryFailed(pg::QueryError::Text(format!(
                "Error {{ kind: ToSql({i}), cause: Some(WrongType {{ postgres: {}, rust: \"{}\" }}) }} \
                 (parameter ${} is `{}` in this statement: send it as that type or cast in SQL)",
                pg_type_name(ty),
                value.rust_type(),
                i + 1,
                pg_type_name(ty),
            ))));
        }
        q = q.bind(Typed {
            value,
            ty: ty.clone(),
        });
    }
    Ok(q)
}

/// The `db-data-type` Spin reports for a column (`timestamptz` as `datetime`, as Spin does; the
/// types Spin does not convert as `other(name)`).
pub fn column_type(ty: &PgTypeInfo) -> pg::DbDataType {
    use pg::DbDataType as D;
    match ty.name() {
        "BOOL" => D::Boolean,
        "INT2" => D::Int16,
        "INT4" => D::Int32,
        "INT8" => D::Int64,
        "FLOAT4" => D::Floating32,
        "FLOAT8" => D::Floating64,
        "TEXT" | "VARCHAR" | "BPCHAR" => D::Str,
        "BYTEA" => D::Binary,
        "DATE" => D::Date,
        "TIME" => D::Time,
        "TIMESTAMP" | "TIMESTAMPTZ" => D::Datetime,
        "UUID" => D::Uuid,
        "JSONB" => D::Jsonb,
        "NUMERIC" => D::Decimal,
        "INT4RANGE" => D::RangeInt32,
        "INT8RANGE" => D::RangeInt64,
        "NUMRANGE" => D::RangeDecimal,
        "INT4[]" => D::ArrayInt32,
        "INT8[]" => D::ArrayInt64,
        "NUMERIC[]" => D::ArrayDecimal,
        "TEXT[]" | "VARCHAR[]" | "BPCHAR[]" => D::ArrayStr,
        "INTERVAL" => D::Interval,
        _ => D::Other(pg_type_name(ty)),
    }
}

pub fn columns(row: &PgRow) -> Vec<pg::Column> {
    row.columns()
        .iter()
        .map(|c| pg::Column {
            name: c.name().to_string(),
            data_type: column_type(c.type_info()),
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

/// A row Spin cannot convert fails the query with `query-failed(text)`, naming the column's index
/// the way `tokio-postgres` does.
fn unconvertible(index: usize, column: &str, detail: impl std::fmt::Display) -> pg::Error {
    pg::Error::QueryFailed(pg::QueryError::Text(format!(
        "Error {{ kind: FromSql({index}), cause: Some({detail}) }} (column `{column}`)"
    )))
}

pub fn decode_row(row: &PgRow) -> Result<Vec<pg::DbValue>, pg::Error> {
    use pg::DbValue as V;
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let raw = row
            .try_get_raw(i)
            .map_err(|e| unconvertible(i, col.name(), e))?;
        let type_name = col.type_info().name();
        // Spin's reader refuses timestamptz even when the value is NULL: it checks the type first.
        if type_name == "TIMESTAMPTZ" {
            return Err(unconvertible(
                i,
                col.name(),
                "WrongType { postgres: Timestamptz, rust: \"core::option::Option<chrono::naive::datetime::NaiveDateTime>\" }",
            ));
        }
        if raw.is_null() {
            out.push(V::DbNull);
            continue;
        }
        let conv = |e: sqlx::Error| unconvertible(i, col.name(), e);
        let value = match type_name {
            "BOOL" => V::Boolean(row.try_get(i).map_err(conv)?),
            "INT2" => V::Int16(row.try_get(i).map_err(conv)?),
            "INT4" => V::Int32(row.try_get(i).map_err(conv)?),
            "INT8" => V::Int64(row.try_get(i).map_err(conv)?),
            "FLOAT4" => V::Floating32(row.try_get(i).map_err(conv)?),
            "FLOAT8" => V::Floating64(row.try_get(i).map_err(conv)?),
            "TEXT" | "VARCHAR" | "BPCHAR" => V::Str(row.try_get(i).map_err(conv)?),
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
            "UUID" => V::Uuid(row.try_get::<uuid::Uuid, _>(i).map_err(conv)?.to_string()),
            "JSONB" => {
                let v: sqlx::types::Json<serde_json::Value> = row.try_get(i).map_err(conv)?;
                V::Jsonb(serde_json::to_vec(&v.0).map_err(|e| unconvertible(i, col.name(), e))?)
            }
            // NaN and values beyond rust_decimal's 28 digits fail in Spin's reader too.
            "NUMERIC" => V::Decimal(row.try_get::<Decimal, _>(i).map_err(conv)?.to_string()),
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
            "TEXT[]" | "VARCHAR[]" | "BPCHAR[]" => V::ArrayStr(
                text_array(&raw_bytes(&raw)).map_err(|e| unconvertible(i, col.name(), e))?,
            ),
            "INTERVAL" => {
                let v: PgInterval = row.try_get(i).map_err(conv)?;
                V::Interval(pg::Interval {
                    micros: v.microseconds,
                    days: v.days,
                    months: v.months,
                })
            }
            // Everything else (name, "char", json, citext, enums, ...) as its raw binary value.
            _ => V::Unsupported(raw_bytes(&raw)),
        };
        out.push(value);
    }
    Ok(out)
}

/// A one-dimensional text-like array in binary form (sqlx decodes only `text[]` into strings).
fn text_array(bytes: &[u8]) -> Result<Vec<Option<String>>, String> {
    let mut rest = bytes;
    let mut take = |n: usize| -> Result<&[u8], String> {
        if rest.len() < n {
            return Err("truncated array".into());
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Ok(head)
    };
    let int = |b: &[u8]| i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let dimensions = int(take(4)?);
    let _has_null = take(4)?;
    let _element = take(4)?;
    if dimensions == 0 {
        return Ok(Vec::new());
    }
    if dimensions != 1 {
        return Err("array contains too many dimensions".into());
    }
    let len = usize::try_from(int(take(4)?)).map_err(|_| "negative array length")?;
    let _lower_bound = take(4)?;
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        let n = int(take(4)?);
        if n < 0 {
            out.push(None);
        } else {
            let text = take(usize::try_from(n).map_err(|_| "bad length")?)?;
            out.push(Some(
                String::from_utf8(text.to_vec()).map_err(|e| e.to_string())?,
            ));
        }
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
