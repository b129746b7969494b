//! Encoding of primitive types.

use bytes::{BufMut, Bytes, BytesMut};

use super::EncodeError;

/// An encoder for one request.
///
/// Small fields go into a growing buffer. Large shared payloads (record
/// batches) are attached with [`Writer::shared_bytes`] as separate segments,
/// so they reach the socket through a vectored write without being copied.
#[derive(Debug, Default)]
pub struct Writer {
    buf: BytesMut,
    segments: Vec<Bytes>,
    flexible: bool,
}

impl Writer {
    /// An empty writer; `flexible` selects compact lengths and tagged fields.
    pub fn new(flexible: bool) -> Self {
        Writer {
            buf: BytesMut::with_capacity(256),
            segments: Vec::new(),
            flexible,
        }
    }

    /// Whether this writer encodes the flexible (KIP-482) forms.
    pub fn is_flexible(&self) -> bool {
        self.flexible
    }

    /// Switches between flexible and classic forms (request header v2 mixes them).
    pub fn set_flexible(&mut self, flexible: bool) {
        self.flexible = flexible;
    }

    /// Total bytes written so far, segments included.
    pub fn len(&self) -> usize {
        self.buf.len() + self.segments.iter().map(Bytes::len).sum::<usize>()
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A signed 8-bit integer.
    pub fn i8(&mut self, v: i8) {
        self.buf.put_i8(v);
    }

    /// A signed 16-bit big-endian integer.
    pub fn i16(&mut self, v: i16) {
        self.buf.put_i16(v);
    }

    /// An unsigned 16-bit big-endian integer.
    pub fn u16(&mut self, v: u16) {
        self.buf.put_u16(v);
    }

    /// A signed 32-bit big-endian integer.
    pub fn i32(&mut self, v: i32) {
        self.buf.put_i32(v);
    }

    /// An unsigned 32-bit big-endian integer.
    pub fn u32(&mut self, v: u32) {
        self.buf.put_u32(v);
    }

    /// A signed 64-bit big-endian integer.
    pub fn i64(&mut self, v: i64) {
        self.buf.put_i64(v);
    }

    /// A boolean as one byte.
    pub fn bool(&mut self, v: bool) {
        self.buf.put_u8(u8::from(v));
    }

    /// A 16-byte UUID.
    pub fn uuid(&mut self, v: &[u8; 16]) {
        self.buf.put_slice(v);
    }

    /// Raw bytes with no length prefix.
    pub fn raw(&mut self, v: &[u8]) {
        self.buf.put_slice(v);
    }

    /// An unsigned varint.
    pub fn uvarint(&mut self, v: u32) {
        put_uvarlong(&mut self.buf, u64::from(v));
    }

    /// A zigzag-encoded signed varint.
    pub fn varint(&mut self, v: i32) {
        self.uvarint(((v << 1) ^ (v >> 31)) as u32);
    }

    /// A zigzag-encoded signed varlong.
    pub fn varlong(&mut self, v: i64) {
        put_uvarlong(&mut self.buf, ((v << 1) ^ (v >> 63)) as u64);
    }

    /// A length prefix; `None` writes null. Classic strings use i16, classic
    /// bytes and arrays i32; compact forms use an unsigned varint of `len + 1`.
    fn length(
        &mut self,
        len: Option<usize>,
        classic_i16: bool,
        too_long: EncodeError,
    ) -> Result<(), EncodeError> {
        match (self.flexible, len) {
            (true, None) => self.uvarint(0),
            (true, Some(n)) => {
                let n = u32::try_from(n)
                    .ok()
                    .and_then(|n| n.checked_add(1))
                    .ok_or(too_long)?;
                self.uvarint(n);
            }
            (false, None) if classic_i16 => self.i16(-1),
            (false, None) => self.i32(-1),
            (false, Some(n)) if classic_i16 => self.i16(i16::try_from(n).map_err(|_| too_long)?),
            (false, Some(n)) => self.i32(i32::try_from(n).map_err(|_| too_long)?),
        }
        Ok(())
    }

    /// A nullable string.
    pub fn nullable_string(&mut self, v: Option<&str>) -> Result<(), EncodeError> {
        let len = v.map(str::len);
        self.length(
            len,
            true,
            EncodeError::StringTooLong {
                len: len.unwrap_or(0),
            },
        )?;
        if let Some(s) = v {
            self.buf.put_slice(s.as_bytes());
        }
        Ok(())
    }

    /// A non-null string.
    pub fn string(&mut self, v: &str) -> Result<(), EncodeError> {
        self.nullable_string(Some(v))
    }

    /// Nullable bytes.
    pub fn nullable_bytes(&mut self, v: Option<&[u8]>) -> Result<(), EncodeError> {
        let len = v.map(<[u8]>::len);
        self.length(
            len,
            false,
            EncodeError::BytesTooLong {
                len: len.unwrap_or(0),
            },
        )?;
        if let Some(b) = v {
            self.buf.put_slice(b);
        }
        Ok(())
    }

    /// Non-null bytes.
    pub fn bytes(&mut self, v: &[u8]) -> Result<(), EncodeError> {
        self.nullable_bytes(Some(v))
    }

    /// Nullable bytes whose content is attached as its own segment, not copied.
    pub fn shared_bytes(&mut self, v: Option<Bytes>) -> Result<(), EncodeError> {
        let len = v.as_ref().map(Bytes::len);
        self.length(
            len,
            false,
            EncodeError::BytesTooLong {
                len: len.unwrap_or(0),
            },
        )?;
        if let Some(b) = v.filter(|b| !b.is_empty()) {
            self.segments.push(self.buf.split().freeze());
            self.segments.push(b);
        }
        Ok(())
    }

    /// The element count of a nullable array.
    pub fn nullable_array_len(&mut self, len: Option<usize>) -> Result<(), EncodeError> {
        self.length(
            len,
            false,
            EncodeError::ArrayTooLong {
                len: len.unwrap_or(0),
            },
        )
    }

    /// The element count of a non-null array.
    pub fn array_len(&mut self, len: usize) -> Result<(), EncodeError> {
        self.nullable_array_len(Some(len))
    }

    /// A non-null array, each element written by `element`.
    pub fn array<T>(
        &mut self,
        items: &[T],
        mut element: impl FnMut(&mut Self, &T) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        self.array_len(items.len())?;
        items.iter().try_for_each(|item| element(self, item))
    }

    /// An empty tagged-field section (nothing in classic versions).
    pub fn empty_tagged_fields(&mut self) {
        if self.flexible {
            self.uvarint(0);
        }
    }

    /// The bytes written so far as segments, in order. Most requests are one
    /// segment; each shared payload adds two.
    pub fn into_segments(mut self) -> Vec<Bytes> {
        if !self.buf.is_empty() {
            self.segments.push(self.buf.freeze());
        }
        self.segments.retain(|s| !s.is_empty());
        self.segments
    }

    /// Everything written, copied into one buffer (for tests and small messages).
    pub fn into_bytes(self) -> Bytes {
        let segments = self.into_segments();
        match segments.len() {
            0 => Bytes::new(),
            1 => segments.into_iter().next().unwrap_or_default(),
            _ => {
                let mut all = BytesMut::with_capacity(segments.iter().map(Bytes::len).sum());
                segments.iter().for_each(|s| all.put_slice(s));
                all.freeze()
            }
        }
    }
}

/// Appends an unsigned LEB128 varint to `buf`.
pub(crate) fn put_uvarlong(buf: &mut impl BufMut, mut v: u64) {
    while v >= 0x80 {
        buf.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    buf.put_u8(v as u8);
}

/// The encoded size of an unsigned varint.
pub(crate) fn uvarlong_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}
