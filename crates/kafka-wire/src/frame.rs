//! Length-prefixed frames.
//!
//! Every request and response is an `i32` size followed by that many bytes.
//! [`FrameDecoder`] checks that a whole frame is buffered before it parses
//! anything, and refuses frames above a maximum size, so a hostile length
//! cannot make us allocate without bound.

use bytes::{Buf, Bytes, BytesMut};

use crate::api::ApiKey;
use crate::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::header::{decode_response_header, RequestHeader};
use crate::messages::{Request, Response};

/// The default cap on a response frame: generous for metadata of large
/// clusters, far below anything that would hurt.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 100 * 1024 * 1024;

/// Encodes `request` as a complete frame (size prefix, header, body). The
/// frame comes as segments for a vectored write; record batches inside a
/// produce request are separate segments and are not copied.
pub fn encode_request<R: Request>(
    request: &R,
    version: i16,
    correlation_id: i32,
    client_id: Option<&str>,
) -> Result<Vec<Bytes>, EncodeError> {
    if !R::API_KEY.supported().contains(version) {
        return Err(EncodeError::UnsupportedVersion {
            api: R::API_KEY,
            version,
        });
    }
    let mut w = Writer::new(false);
    w.i32(0); // size, patched below
    RequestHeader {
        api_key: R::API_KEY,
        api_version: version,
        correlation_id,
        client_id,
    }
    .encode(&mut w)?;
    w.set_flexible(R::API_KEY.is_flexible(version));
    request.encode(version, &mut w)?;
    let size = w.len() - 4;
    let size = i32::try_from(size).map_err(|_| EncodeError::FrameTooLarge { size })?;
    let mut segments = w.into_segments();
    // The first segment holds the size placeholder and the header (plus the
    // whole body when no batch is attached): small, so patch a copy of it.
    let mut head = BytesMut::from(&segments[0][..]);
    head[..4].copy_from_slice(&size.to_be_bytes());
    segments[0] = head.freeze();
    Ok(segments)
}

/// Decodes a response frame body (size prefix already removed) for a request
/// of `version`, checking the correlation id.
pub fn decode_response<R: Response>(
    api: ApiKey,
    version: i16,
    expected_correlation_id: i32,
    body: &[u8],
) -> Result<R, DecodeError> {
    let mut r = Reader::new(body, api.is_flexible(version));
    let correlation_id = decode_response_header(&mut r, api, version)?;
    if correlation_id != expected_correlation_id {
        return Err(DecodeError::CorrelationMismatch {
            expected: expected_correlation_id,
            actual: correlation_id,
        });
    }
    R::decode(&mut r, version)
}

/// Reads the correlation id at the start of a response body, to route it.
pub fn peek_correlation_id(body: &[u8]) -> Result<i32, DecodeError> {
    Reader::new(body, false).i32()
}

/// Splits a byte stream into frames.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    max_frame_size: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE)
    }
}

impl FrameDecoder {
    /// A decoder that refuses frames larger than `max_frame_size` bytes.
    pub fn new(max_frame_size: usize) -> Self {
        FrameDecoder { max_frame_size }
    }

    /// Takes one complete frame body off the front of `buf`, or returns
    /// `Ok(None)` when more bytes are needed. An error means the stream can no
    /// longer be trusted.
    pub fn decode(&self, buf: &mut BytesMut) -> Result<Option<Bytes>, DecodeError> {
        let Some(size) = self.check(buf)? else {
            return Ok(None);
        };
        buf.advance(4);
        Ok(Some(buf.split_to(size).freeze()))
    }

    /// Check without parsing: the body size of the frame at the front of
    /// `buf`, if it is complete.
    pub fn check(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        let Some(prefix) = buf.get(..4) else {
            return Ok(None);
        };
        let size = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        let size = usize::try_from(size).map_err(|_| DecodeError::InvalidLength {
            what: "frame size",
            length: i64::from(size),
        })?;
        if size > self.max_frame_size {
            return Err(DecodeError::FrameTooLarge {
                size: size as i64,
                max: self.max_frame_size,
            });
        }
        Ok((buf.len() - 4 >= size).then_some(size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoder_waits_for_a_whole_frame() {
        let d = FrameDecoder::new(16);
        let mut buf = BytesMut::from(&[0, 0, 0, 3, 1, 2][..]);
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(&[3, 9]);
        assert_eq!(d.decode(&mut buf).unwrap().unwrap().as_ref(), &[1, 2, 3]);
        assert_eq!(buf.as_ref(), &[9]);
    }

    #[test]
    fn decoder_refuses_huge_and_negative_sizes() {
        let d = FrameDecoder::new(16);
        let mut huge = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff][..]);
        assert!(matches!(
            d.decode(&mut huge),
            Err(DecodeError::FrameTooLarge { .. })
        ));
        let mut negative = BytesMut::from(&[0xff, 0xff, 0xff, 0xfe][..]);
        assert!(matches!(
            d.decode(&mut negative),
            Err(DecodeError::InvalidLength { .. })
        ));
    }
}
