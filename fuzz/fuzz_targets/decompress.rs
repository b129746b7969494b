//! The decompressors. The first byte picks the codec (low bits) and whether
//! the output limit is 1 MiB or small (high bit, size from the second byte).
//! Oracle: output is appended, never beyond the limit, and left untouched on
//! error; the limit is exact (the produced length passes, one less does not).
#![no_main]

use kafka_wire::compression::{decompress, Compression, CompressionError};
use libfuzzer_sys::fuzz_target;

const PREFIX: &[u8] = b"kept";

fuzz_target!(|data: &[u8]| {
    let [mode, size, input @ ..] = data else { return };
    let codec = Compression::ALL[usize::from(mode & 0x7f) % Compression::ALL.len()];
    let max_output = if mode & 0x80 == 0 { 1 << 20 } else { usize::from(*size) * 16 };

    let mut out = PREFIX.to_vec();
    let result = decompress(codec, input, max_output, &mut out);
    assert_eq!(&out[..PREFIX.len()], PREFIX);
    if result.is_err() {
        assert_eq!(out, PREFIX, "{codec}: output changed on error");
        return;
    }
    let produced = &out[PREFIX.len()..];
    assert!(produced.len() <= max_output);

    let mut again = Vec::new();
    decompress(codec, input, produced.len(), &mut again)
        .unwrap_or_else(|e| panic!("{codec}: exact limit {} refused: {e}", produced.len()));
    assert_eq!(again, produced);
    if let Some(tight) = produced.len().checked_sub(1) {
        let err = decompress(codec, input, tight, &mut Vec::new()).unwrap_err();
        assert!(matches!(err, CompressionError::OutputTooLarge { .. }), "{codec}: {err}");
    }
});
