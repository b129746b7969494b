//! `read_batches` on arbitrary bytes (decompression capped at 1 MiB). When bit
//! 0 of the first byte is set, the CRC of each batch is fixed up first, so the
//! fuzzer gets past the checksum into the attributes and the records.
#![no_main]

use kafka_wire::record::read_batches;
use libfuzzer_sys::fuzz_target;

/// Rewrites the CRC-32C (offset 17, over bytes 21..end) of every batch whose
/// length field fits in `bytes`.
fn fix_crcs(bytes: &mut [u8]) {
    let mut start = 0;
    while let Some(length) = bytes.get(start + 8..start + 12) {
        let length = i32::from_be_bytes(length.try_into().unwrap());
        let end = start + 12 + length.max(0) as usize;
        if length < 9 || end > bytes.len() {
            return;
        }
        let crc = crc32c(&bytes[start + 21..end]);
        bytes[start + 17..start + 21].copy_from_slice(&crc.to_be_bytes());
        start = end;
    }
}

/// CRC-32C, bitwise: slow, short, independent of the crate under test.
fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0x82F6_3B78 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut bytes = rest.to_vec();
    if mode & 1 == 1 {
        fix_crcs(&mut bytes);
    }
    let _ = read_batches(&bytes, 1 << 20);
});
