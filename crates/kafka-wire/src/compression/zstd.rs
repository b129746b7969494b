//! zstd: one standard Zstandard frame (RFC 8878), level 3 by default.
//!
//! Kafka's Java client writes through zstd-jni's streaming compressor at
//! `compression.zstd.level` (default 3, libzstd's own default). Here the whole
//! input is known up front, so the frame also records its content size, which
//! lets libzstd pick a window no larger than the data (less memory for every
//! reader). Reading streams through libzstd's decoder and stops one byte past
//! the output limit, so a bomb never inflates in memory.
//!
//! One libzstd compression context per thread is kept and reused: creating
//! one per batch cost about a tenth of compressing a 64 KiB batch
//! (`cargo bench -p kafka-wire --bench hot_path -- batch_close`).

use std::cell::RefCell;
use std::io::Cursor;
use std::ops::RangeInclusive;

use super::{read_bounded, Compression, CompressionError};

/// Kafka's default `compression.zstd.level`, which is also libzstd's.
pub(super) const DEFAULT_LEVEL: i32 = 3;

const CODEC: Compression = Compression::Zstd;

/// The levels the linked libzstd accepts (Kafka uses the same bounds).
pub(super) fn levels() -> RangeInclusive<i32> {
    ::zstd::compression_level_range()
}

thread_local! {
    /// This thread's compression context and the level it is set to.
    static COMPRESSOR: RefCell<Option<(i32, ::zstd::bulk::Compressor<'static>)>> = const { RefCell::new(None) };
}

/// Appends one zstd frame holding `input` to `out`, with its content size
/// (one-shot compression records it). `level` has been checked.
pub(super) fn compress(level: Option<i32>, input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
    let level = level.unwrap_or(DEFAULT_LEVEL);
    let codec_error = |e| CompressionError::codec(CODEC, e);
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = match &mut *cell {
            Some((set, compressor)) if *set == level => compressor,
            slot => {
                &mut slot
                    .insert((level, ::zstd::bulk::Compressor::new(level).map_err(codec_error)?))
                    .1
            }
        };
        let start = out.len();
        out.reserve(::zstd::zstd_safe::compress_bound(input.len()));
        // Writes after what `out` already holds.
        let mut tail = Cursor::new(&mut *out);
        tail.set_position(start as u64);
        compressor
            .compress_to_buffer(input, &mut tail)
            .map_err(codec_error)?;
        Ok(())
    })
}

/// Appends the content of the zstd frame(s) in `input` to `out`, at most
/// `max_output` bytes.
pub(super) fn decompress(input: &[u8], max_output: usize, out: &mut Vec<u8>) -> Result<(), CompressionError> {
    // The decoder keeps libzstd's default window limit (2^27 bytes), the
    // same as zstd-jni's in Kafka.
    let decoder =
        ::zstd::stream::read::Decoder::with_buffer(input).map_err(|e| CompressionError::codec(CODEC, e))?;
    read_bounded(CODEC, decoder, max_output, out)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::compressible;
    use super::*;

    fn zstd(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        compress(None, data, &mut out).unwrap();
        out
    }

    fn unzstd(input: &[u8], max: usize) -> Result<Vec<u8>, CompressionError> {
        let mut out = Vec::new();
        decompress(input, max, &mut out).map(|()| out)
    }

    #[test]
    fn zstd_frame_has_magic_and_content_size() {
        let data = compressible(100_000);
        let frame = zstd(&data);
        assert_eq!(frame[..4], [0x28, 0xb5, 0x2f, 0xfd]);
        assert_eq!(
            ::zstd::zstd_safe::get_frame_content_size(&frame).ok(),
            Some(Some(data.len() as u64))
        );
    }

    #[test]
    fn zstd_reused_context_follows_level_changes_and_appends() {
        let data = compressible(50_000);
        let mut out = b"prefix".to_vec();
        let mut sizes = Vec::new();
        for level in [1, 19, 1] {
            let before = out.len();
            compress(Some(level), &data, &mut out).unwrap();
            assert_eq!(unzstd(&out[before..], data.len()).unwrap(), data);
            sizes.push(out.len() - before);
        }
        assert!(out.starts_with(b"prefix"));
        assert_eq!(sizes[0], sizes[2], "level 1 again, not the context's last level");
    }

    #[test]
    fn zstd_reads_several_and_skippable_frames() {
        let mut stream = zstd(b"first ");
        // A skippable frame: magic 0x184D2A5?, length, payload.
        stream.extend_from_slice(&0x184D_2A53u32.to_le_bytes());
        stream.extend_from_slice(&2u32.to_le_bytes());
        stream.extend_from_slice(b"??");
        stream.extend(zstd(b"second"));
        assert_eq!(unzstd(&stream, 12).unwrap(), b"first second");
        assert!(matches!(
            unzstd(&stream, 11),
            Err(CompressionError::OutputTooLarge { .. })
        ));
    }

    #[test]
    fn zstd_known_frame_decodes() {
        // `printf kafka | zstd -q --no-check` (zstd CLI 1.5): a frame not written
        // by this code, without content size.
        let frame = [
            0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x29, 0x00, 0x00, 0x6b, 0x61, 0x66, 0x6b, 0x61,
        ];
        assert_eq!(unzstd(&frame, 5).unwrap(), b"kafka");
    }

    #[test]
    fn zstd_rejects_trailing_garbage() {
        let mut stream = zstd(&compressible(5000));
        stream.extend_from_slice(b"junk");
        assert!(matches!(
            unzstd(&stream, 10_000),
            Err(CompressionError::Corrupt { .. })
        ));
    }
}
