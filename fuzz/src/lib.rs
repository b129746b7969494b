//! Shared helpers for the kafka-wire fuzz targets.
//!
//! Besides "does not panic", every target runs under an allocation guard:
//! kafka-wire promises never to allocate more than the bytes in hand justify,
//! so a single allocation above [`MAX_ALLOCATION`] (fuzz inputs are a few KiB,
//! decompression is capped at 1 MiB) aborts the run and libFuzzer records the
//! input as a crash. Without ASan this is what catches a count read from the
//! wire and passed to `Vec::with_capacity` unchecked: the kernel would
//! otherwise overcommit the memory and nothing would notice.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;

use kafka_wire::frame::{decode_response, peek_correlation_id};
use kafka_wire::messages::Response;
use kafka_wire::ApiKey;

/// Largest single allocation a target may make.
pub const MAX_ALLOCATION: usize = 32 << 20;

struct AllocationGuard;

fn check_size(size: usize) {
    if size > MAX_ALLOCATION {
        // No formatting: it could allocate. stderr is unbuffered.
        let _ = std::io::stderr().write_all(b"allocation above MAX_ALLOCATION (32 MiB)\n");
        std::process::abort();
    }
}

// SAFETY: forwards to the system allocator unchanged after a size check.
unsafe impl GlobalAlloc for AllocationGuard {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check_size(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check_size(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check_size(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GUARD: AllocationGuard = AllocationGuard;

/// The version of `api` selected by `selector`: every supported version is
/// reachable, nothing outside the range is produced.
pub fn pick_version(api: ApiKey, selector: u8) -> i16 {
    let range = api.supported();
    let span = (range.max - range.min + 1) as u8;
    range.min + i16::from(selector % span)
}

/// Fuzzes the response decoder of `api`: the first input byte picks the
/// version, the rest is a frame body (response header, then the body). The
/// expected correlation id is taken from the body itself so that the header
/// check passes and the body decoder is reached.
pub fn response<T: Response>(api: ApiKey, data: &[u8]) -> Option<T> {
    let (&selector, body) = data.split_first()?;
    let version = pick_version(api, selector);
    let correlation_id = peek_correlation_id(body).unwrap_or(0);
    decode_response::<T>(api, version, correlation_id, body).ok()
}
