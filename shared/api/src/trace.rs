//! W3C Trace Context (`traceparent`): continue the caller's trace, or start one, and hand the
//! provider the same trace id, so one buyer's payment can be followed from the CDN to the PSP.
//!
//! `traceparent: <version>-<trace-id: 32 hex>-<parent-id: 16 hex>-<flags: 2 hex>`, lowercase.
//! Version `ff` and all-zero ids are invalid; a later version is read by its first four fields
//! (the spec's forward-compatibility rule); anything invalid starts a new trace.

/// A position in a trace: the trace id, the span that is "us", and the trace flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub flags: u8,
}

/// Length of a version-00 header value.
const V00_LEN: usize = 55;

fn hex_bytes<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl TraceParent {
    /// The caller's position, if the header is a valid `traceparent`.
    pub fn parse(header: &str) -> Option<Self> {
        let header = header.trim();
        let version = hex_bytes::<1>(header.get(0..2)?)?[0];
        let well_sized = match version {
            0xff => false,
            0 => header.len() == V00_LEN,
            _ => header.len() == V00_LEN || header.as_bytes().get(V00_LEN) == Some(&b'-'),
        };
        if !well_sized {
            return None;
        }
        let mut fields = header[..V00_LEN].split('-');
        let (_, Some(trace), Some(parent), Some(flags)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return None;
        };
        let trace_id = hex_bytes::<16>(trace).filter(|t| t != &[0; 16])?;
        let span_id = hex_bytes::<8>(parent).filter(|s| s != &[0; 8])?;
        let flags = hex_bytes::<1>(flags)?[0];
        Some(Self {
            trace_id,
            span_id,
            flags,
        })
    }

    /// Our own span: the caller's trace (from `incoming`, if valid) with the new span id, else a
    /// new trace. `random` supplies the 24 random bytes either needs (16 trace + 8 span).
    pub fn continue_or_start(incoming: Option<&str>, random: [u8; 24]) -> Self {
        let mut span_id = [0u8; 8];
        span_id.copy_from_slice(&random[16..]);
        span_id[0] |= 1; // never the invalid all-zero id
        match incoming.and_then(Self::parse) {
            Some(parent) => Self { span_id, ..parent },
            None => {
                let mut trace_id = [0u8; 16];
                trace_id.copy_from_slice(&random[..16]);
                trace_id[0] |= 1;
                Self {
                    trace_id,
                    span_id,
                    // Not sampled: the caller did not ask for this trace to be recorded.
                    flags: 0,
                }
            }
        }
    }

    /// The header value that names this span as the parent of an outgoing call.
    pub fn header_value(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            hex(&self.trace_id),
            hex(&self.span_id),
            self.flags
        )
    }

    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_header_is_continued_with_a_new_span() {
        let ours = TraceParent::continue_or_start(Some(SAMPLE), [7; 24]);
        assert_eq!(ours.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(ours.flags, 1);
        assert_eq!(
            ours.header_value(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0707070707070707-01"
        );
        assert_eq!(TraceParent::parse(&ours.header_value()), Some(ours));
    }

    #[test]
    fn invalid_headers_start_a_new_trace() {
        for bad in [
            "",
            "garbage",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-011",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
            let ours = TraceParent::continue_or_start(Some(bad), [9; 24]);
            assert_eq!(ours.trace_id, [9; 16], "{bad}");
            assert_eq!(ours.flags, 0);
        }
    }

    #[test]
    fn later_versions_are_read_by_their_first_fields() {
        let future = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever";
        assert!(TraceParent::parse(future).is_some());
        assert!(TraceParent::parse(&future.replace("-what-ever", "xwhat")).is_none());
    }

    #[test]
    fn generated_ids_are_never_all_zero() {
        let ours = TraceParent::continue_or_start(None, [0; 24]);
        assert_ne!(ours.trace_id, [0; 16]);
        assert_ne!(ours.span_id, [0; 8]);
        assert!(TraceParent::parse(&ours.header_value()).is_some());
    }
}
