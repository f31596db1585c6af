//! The seat map's shared copy. Building the map of a 4,900-seat stadium costs Postgres about
//! 40 ms and is 0.7 MB of JSON; every buyer past the waiting room asks for it, often every few
//! seconds. So one request per event rebuilds it at most about once per [`FRESH_MS`], stores it
//! in Redis gzip-compressed with its ETag, and every other request serves that copy: one Redis
//! `GET`, no Postgres, about a tenth of the bytes on the wire.
//!
//! The map only shows; the hold script and the reserve function decide. A buyer may see a status
//! up to [`FRESH_MS`] old, plus the one rebuild another request is running (tens of
//! milliseconds), and at most [`LEASE_MS`] + [`FRESH_MS`] when the rebuilding request died
//! halfway: a seat shown free may already be taken (the hold says `seat_taken`), never the
//! other way round for longer than that.
//!
//! The copy is `MAGIC`, the build time (ms since the epoch, big-endian), the ETag's length and
//! text, then the gzip stream of the exact JSON body Postgres wrote.

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use std::io::{Read as _, Write as _};

/// How long a copy is served before a request rebuilds it: the staleness a buyer may see.
pub const FRESH_MS: u64 = 1_000;
/// How long Redis keeps a copy: a stale copy is what the others serve while one request
/// rebuilds, and an event nobody looks at leaves nothing behind for long.
pub const KEEP_MS: u64 = 60_000;
/// How long the right to rebuild lasts: longer than a rebuild, so two requests rarely rebuild
/// at once; short, so a rebuild that died is retried soon.
pub const LEASE_MS: u64 = 2_000;
/// How far a copy's build time may lie ahead of this node's clock and still count as fresh
/// (nodes' clocks differ by milliseconds under NTP; a copy from the far future is rebuilt).
const CLOCK_SKEW_MS: u64 = 1_000;
/// The format's tag: a copy in another format (an older release) is simply rebuilt.
const MAGIC: &[u8; 4] = b"SM1\0";
/// Most bytes a copy's JSON may inflate to: a sane bound on the 100,000-seat map (about
/// 15 MB), so a corrupt copy cannot make a reader allocate without end.
const MAX_JSON_BYTES: u64 = 64 << 20;

/// One seat map, as kept in Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedSeatMap {
    /// When the request that read Postgres started, in ms since the epoch.
    pub built_at_ms: u64,
    /// The strong ETag of the JSON body (not of the compressed bytes).
    pub etag: String,
    /// The JSON body, gzip-compressed.
    pub gzip: Vec<u8>,
}

impl SharedSeatMap {
    /// Compresses the body Postgres wrote, read at `built_at_ms`.
    pub fn build(json: &str, built_at_ms: u64) -> Self {
        let mut encoder = GzEncoder::new(Vec::with_capacity(json.len() / 8), Compression::fast());
        // Writing into a Vec cannot fail.
        let _ = encoder.write_all(json.as_bytes());
        let gzip = encoder.finish().unwrap_or_default();
        Self {
            built_at_ms,
            etag: urr_api::cache::strong_etag(json.as_bytes()),
            gzip,
        }
    }

    /// Whether the copy may still be served at `now_ms` without a rebuild.
    pub fn is_fresh(&self, now_ms: u64) -> bool {
        now_ms < self.built_at_ms.saturating_add(FRESH_MS)
            && self.built_at_ms <= now_ms.saturating_add(CLOCK_SKEW_MS)
    }

    /// The bytes stored in Redis.
    pub fn encode(&self) -> Vec<u8> {
        let etag = self.etag.as_bytes();
        let mut out = Vec::with_capacity(MAGIC.len() + 9 + etag.len() + self.gzip.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.built_at_ms.to_be_bytes());
        out.push(u8::try_from(etag.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&etag[..etag.len().min(usize::from(u8::MAX))]);
        out.extend_from_slice(&self.gzip);
        out
    }

    /// A copy read back from Redis; `None` for anything else (another format, a torn value).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let rest = bytes.strip_prefix(MAGIC)?;
        let (built, rest) = rest.split_first_chunk::<8>()?;
        let (&etag_len, rest) = rest.split_first()?;
        let (etag, gzip) = rest.split_at_checked(usize::from(etag_len))?;
        if gzip.is_empty() {
            return None;
        }
        Some(Self {
            built_at_ms: u64::from_be_bytes(*built),
            etag: String::from_utf8(etag.to_vec()).ok()?,
            gzip: gzip.to_vec(),
        })
    }

    /// The JSON body, for a client that does not take gzip; `None` if the copy is corrupt.
    pub fn json(&self) -> Option<String> {
        let mut json = String::new();
        GzDecoder::new(self.gzip.as_slice())
            .take(MAX_JSON_BYTES)
            .read_to_string(&mut json)
            .ok()?;
        Some(json)
    }
}

/// `Cache-Control` of the seat map: kept only by the buyer's browser (it is behind the waiting
/// room), and revalidated on every use: the ETag turns an unchanged map into a bodiless 304.
pub const CACHE_CONTROL: &str = "private, no-cache";

/// Which form of a copy a request gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Representation {
    /// The client holds this map already (its `If-None-Match` names either form's tag).
    NotModified,
    /// The compressed bytes as stored (`Content-Encoding: gzip`).
    Gzip,
    /// The JSON text.
    Identity,
}

/// The form `copy` goes out in, and the ETag that goes with it. The gzip form has its own
/// strong tag (RFC 9110 §8.8.3: a strong validator names one representation, content coding
/// included); a revalidation with either tag matches, since both name the same map.
pub fn representation(
    copy: &SharedSeatMap,
    if_none_match: Option<&str>,
    accept_encoding: Option<&str>,
) -> (Representation, String) {
    let gzip = accept_encoding.is_some_and(urr_api::cache::accepts_gzip);
    let gzip_etag = gzip_etag(&copy.etag);
    let etag = if gzip {
        gzip_etag.clone()
    } else {
        copy.etag.clone()
    };
    let held = if_none_match.is_some_and(|header| {
        urr_api::cache::if_none_match_matches(header, &copy.etag)
            || urr_api::cache::if_none_match_matches(header, &gzip_etag)
    });
    let form = match (held, gzip) {
        (true, _) => Representation::NotModified,
        (false, true) => Representation::Gzip,
        (false, false) => Representation::Identity,
    };
    (form, etag)
}

/// The gzip form's tag: the JSON's tag with `-gz` inside the quotes.
fn gzip_etag(etag: &str) -> String {
    match etag.strip_suffix('"') {
        Some(open) => format!("{open}-gz\""),
        None => format!("{etag}-gz"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_of(seats: usize) -> String {
        let seats: Vec<String> = (0..seats)
            .map(|i| {
                format!(
                    r#"{{"id":"00000000-0000-4000-8000-{i:012}","section":"A","row_number":{},"seat_number":{},"seat_label":"A-{i}","price":99000,"status":"available"}}"#,
                    i / 50,
                    i % 50
                )
            })
            .collect();
        format!(
            r#"{{"event":{{"id":"e","title":"t"}},"seats":[{}]}}"#,
            seats.join(",")
        )
    }

    #[test]
    fn a_copy_round_trips_through_its_stored_bytes() {
        let json = map_of(100);
        let copy = SharedSeatMap::build(&json, 1_700_000_000_123);
        let back = SharedSeatMap::decode(&copy.encode()).expect("decodes");
        assert_eq!(back, copy);
        assert_eq!(back.json().as_deref(), Some(json.as_str()));
        assert_eq!(back.etag, urr_api::cache::strong_etag(json.as_bytes()));
    }

    #[test]
    fn a_stadium_map_compresses_to_a_small_fraction() {
        let json = map_of(4_900);
        let copy = SharedSeatMap::build(&json, 0);
        assert!(
            copy.gzip.len() * 5 < json.len(),
            "{} of {}",
            copy.gzip.len(),
            json.len()
        );
    }

    #[test]
    fn freshness_lasts_fresh_ms_and_a_copy_from_the_future_is_rebuilt() {
        let copy = SharedSeatMap::build("{}", 10_000);
        assert!(copy.is_fresh(10_000));
        assert!(copy.is_fresh(10_000 + FRESH_MS - 1));
        assert!(!copy.is_fresh(10_000 + FRESH_MS));
        // A node whose clock is a little behind the builder's still serves it.
        assert!(copy.is_fresh(10_000 - CLOCK_SKEW_MS));
        assert!(!copy.is_fresh(10_000 - CLOCK_SKEW_MS - 1));
    }

    #[test]
    fn each_form_has_its_own_tag_and_either_tag_revalidates() {
        let copy = SharedSeatMap::build(&map_of(2), 0);
        let (form, plain) = representation(&copy, None, None);
        assert_eq!(
            (form, plain.as_str()),
            (Representation::Identity, copy.etag.as_str())
        );
        let (form, zipped) = representation(&copy, None, Some("gzip, br"));
        assert_eq!(form, Representation::Gzip);
        assert_ne!(zipped, plain);
        assert!(
            zipped.starts_with('"') && zipped.ends_with("-gz\""),
            "{zipped}"
        );
        for held in [&plain, &zipped] {
            for accept in [None, Some("gzip")] {
                assert_eq!(
                    representation(&copy, Some(held), accept).0,
                    Representation::NotModified
                );
            }
        }
        let other = SharedSeatMap::build(&map_of(3), 0);
        assert_eq!(
            representation(&other, Some(&zipped), Some("gzip")).0,
            Representation::Gzip
        );
    }

    #[test]
    fn anything_but_a_whole_copy_is_refused() {
        let bytes = SharedSeatMap::build(&map_of(3), 5).encode();
        for torn in [&bytes[..0], &bytes[..3], &bytes[..12], &bytes[..13 + 34]] {
            assert!(SharedSeatMap::decode(torn).is_none(), "{}", torn.len());
        }
        let mut other = bytes.clone();
        other[2] = b'0';
        assert!(SharedSeatMap::decode(&other).is_none());
        // A copy whose gzip stream is cut decodes but yields no body.
        let cut = SharedSeatMap::decode(&bytes[..bytes.len() - 4]).expect("header");
        assert!(cut.json().is_none());
    }
}
