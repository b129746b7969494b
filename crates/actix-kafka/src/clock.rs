//! The runtime's clocks. The core never reads a clock: the actors read these
//! and pass the time in.

/// The wall clock in milliseconds since the epoch (record timestamps).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
