//! gzip: a standard RFC 1952 stream, as Java's `GZIPOutputStream` writes it.
//!
//! Kafka's Java client wraps the records in one `GZIPOutputStream` at
//! `Deflater.DEFAULT_COMPRESSION` (-1, which zlib takes as level 6) unless
//! `compression.gzip.level` says otherwise. flate2 (miniz_oxide backend)
//! writes the same format. Reading accepts concatenated members, like Java's
//! `GZIPInputStream`.

use std::io::Write;
use std::ops::RangeInclusive;

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use super::{read_bounded, Compression, CompressionError};

/// Kafka's default: `Deflater.DEFAULT_COMPRESSION`, which is zlib level 6.
pub(super) const DEFAULT_LEVEL: i32 = 6;
/// Kafka's `compression.gzip.level` range (-1, the default, is handled apart).
pub(super) const LEVELS: RangeInclusive<i32> = 1..=9;

const CODEC: Compression = Compression::Gzip;

/// Appends one gzip member holding `input` to `out`. `level` has been checked:
/// 1..=9, -1 or `None` (both meaning the default).
pub(super) fn compress(level: Option<i32>, input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
    let level = match level {
        Some(level) if LEVELS.contains(&level) => level,
        _ => DEFAULT_LEVEL,
    };
    // `level` is in 1..=9 here, so the conversion cannot fail.
    let level = u32::try_from(level).unwrap_or(6);
    let mut encoder = GzEncoder::new(out, flate2::Compression::new(level));
    encoder
        .write_all(input)
        .map_err(|e| CompressionError::codec(CODEC, e))?;
    encoder.finish().map_err(|e| CompressionError::codec(CODEC, e))?;
    Ok(())
}

/// Appends the content of the gzip member(s) in `input` to `out`, at most
/// `max_output` bytes.
pub(super) fn decompress(input: &[u8], max_output: usize, out: &mut Vec<u8>) -> Result<(), CompressionError> {
    read_bounded(CODEC, MultiGzDecoder::new(input), max_output, out)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::compressible;
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        compress(None, data, &mut out).unwrap();
        out
    }

    #[test]
    fn gzip_header_is_standard() {
        let out = gzip(b"records");
        // ID1 ID2, CM = 8 (deflate).
        assert_eq!(out[..3], [0x1f, 0x8b, 0x08]);
        // The trailer holds ISIZE, the input length mod 2^32, little endian.
        assert_eq!(out[out.len() - 4..], 7u32.to_le_bytes());
    }

    #[test]
    fn gzip_reads_concatenated_members() {
        let mut both = gzip(b"first member, ");
        both.extend(gzip(b"second member"));
        let mut out = Vec::new();
        decompress(&both, 1000, &mut out).unwrap();
        assert_eq!(out, b"first member, second member");
        // The limit counts across members.
        assert!(matches!(
            decompress(&both, 20, &mut Vec::new()),
            Err(CompressionError::OutputTooLarge { .. })
        ));
    }

    #[test]
    fn gzip_rejects_trailing_garbage_and_bad_crc() {
        let data = compressible(5000);
        let mut with_garbage = gzip(&data);
        with_garbage.extend_from_slice(b"garbage");
        assert!(decompress(&with_garbage, 10_000, &mut Vec::new()).is_err());

        let mut bad_crc = gzip(&data);
        let crc_at = bad_crc.len() - 8;
        bad_crc[crc_at] ^= 1;
        assert!(matches!(
            decompress(&bad_crc, 10_000, &mut Vec::new()),
            Err(CompressionError::Corrupt { .. })
        ));
    }

    #[test]
    fn gzip_known_stream_decodes() {
        // `printf 'kafka' | gzip -n` (GNU gzip): a stream not written by flate2.
        let stream = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x4e, 0x4c, 0xcb, 0x4e, 0x04,
            0x00, 0x17, 0x75, 0xbc, 0x5b, 0x05, 0x00, 0x00, 0x00,
        ];
        let mut out = Vec::new();
        decompress(&stream, 100, &mut out).unwrap();
        assert_eq!(out, b"kafka");
    }
}
