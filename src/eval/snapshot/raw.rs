//! The two kinds of bytes in a snapshot file: the header's fields, written
//! and read one at a time, and the columns' arrays, copied as they lie in
//! memory. Also the checksum over both.

/// Numbers copied between a column and a snapshot file as raw bytes. Each
/// has no padding and every bit pattern of its size is a value, so a slice
/// of them may be viewed as bytes and filled from bytes (the file's bytes
/// are little-endian, as the memory of the targets that keep snapshots).
pub(super) trait Raw: Copy + Default + 'static {}

impl Raw for u8 {}
impl Raw for i8 {}
impl Raw for i16 {}
impl Raw for i32 {}
impl Raw for u32 {}
impl Raw for i64 {}
impl Raw for u64 {}
impl Raw for u128 {}
impl Raw for f64 {}

/// The bytes of `values`.
pub(super) fn bytes<T: Raw>(values: &[T]) -> &[u8] {
    // SAFETY: `Raw` types have no padding, so every byte of the slice is
    // initialized; the view has the slice's address and byte length, and
    // `u8` needs no alignment.
    unsafe {
        std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values))
    }
}

/// The bytes of `values`, to be overwritten.
pub(super) fn bytes_mut<T: Raw>(values: &mut [T]) -> &mut [u8] {
    // SAFETY: as in `bytes`; and since every bit pattern is a `Raw` value,
    // any bytes written through the view leave valid values behind.
    unsafe {
        std::slice::from_raw_parts_mut(
            values.as_mut_ptr().cast::<u8>(),
            std::mem::size_of_val(values),
        )
    }
}

/// Asks the kernel to back the whole 2 MiB pages within `values` by huge
/// pages. A fresh array is mapped page by page as it is first written; read
/// from a snapshot, one of a hundred megabytes cost more in page faults
/// than in copying, 4 KiB at a time. A hint only: nothing changes where
/// the kernel declines.
pub(super) fn prefer_huge_pages<T: Raw>(values: &mut [T]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = values.as_mut_ptr() as usize;
        let end = start + std::mem::size_of_val(values);
        let (first, last) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
        if first < last {
            // SAFETY: the range lies within `values`, which this process
            // owns; MADV_HUGEPAGE changes how it is backed, not what it
            // holds.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = values;
}

/// Reading at a position, from any thread: a file, or bytes in memory.
pub(super) trait ReadAt: Sync {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()>;
}

#[cfg(unix)]
impl ReadAt for std::fs::File {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }
}

/// Snapshots are kept on Unix only (see `identity`).
#[cfg(not(unix))]
impl ReadAt for std::fs::File {
    fn read_exact_at(&self, _buf: &mut [u8], _offset: u64) -> std::io::Result<()> {
        Err(std::io::ErrorKind::Unsupported.into())
    }
}

impl ReadAt for [u8] {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        let at = usize::try_from(offset).map_err(|_| std::io::ErrorKind::UnexpectedEof)?;
        let part = at
            .checked_add(buf.len())
            .and_then(|end| self.get(at..end))
            .ok_or(std::io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(part);
        Ok(())
    }
}

/// `n` rounded up to a multiple of eight: where the next array starts.
pub(super) fn align8(n: u64) -> u64 {
    n.div_ceil(8) * 8
}

/// A 64-bit checksum of a byte stream, fed in pieces of any size. It is
/// there to catch damaged files (a torn write, a flipped bit), not forgery:
/// four independent lanes of multiply and rotate over 8-byte words, so it
/// keeps up with reading from the page cache.
#[derive(Clone)]
pub(super) struct Checksum {
    lanes: [u64; 4],
    /// Bytes not yet making a whole block of 32.
    pending: [u8; 32],
    pending_len: usize,
    total: u64,
}

const PRIME: u64 = 0x9e37_79b9_7f4a_7c15;

impl Checksum {
    pub(super) fn new() -> Checksum {
        Checksum {
            lanes: [1, 2, 3, 4],
            pending: [0; 32],
            pending_len: 0,
            total: 0,
        }
    }

    fn block(lanes: &mut [u64; 4], block: &[u8]) {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            *lane = (*lane ^ u64::from_le_bytes(w))
                .wrapping_mul(PRIME)
                .rotate_left(29);
        }
    }

    pub(super) fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.pending_len > 0 {
            let take = (32 - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len < 32 {
                return;
            }
            let block = self.pending;
            Self::block(&mut self.lanes, &block);
            self.pending_len = 0;
        }
        let blocks = data.chunks_exact(32);
        let rest = blocks.remainder();
        for block in blocks {
            Self::block(&mut self.lanes, block);
        }
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    pub(super) fn finish(mut self) -> u64 {
        if self.pending_len > 0 {
            let mut block = [0u8; 32];
            block[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
            Self::block(&mut self.lanes, &block);
        }
        let mut h = self.total.wrapping_mul(PRIME);
        for lane in self.lanes {
            h = (h ^ lane).wrapping_mul(PRIME).rotate_left(31);
        }
        h ^ (h >> 29)
    }
}

/// The checksum of `data` in one piece.
pub(super) fn checksum(data: &[u8]) -> u64 {
    let mut sum = Checksum::new();
    sum.update(data);
    sum.finish()
}

/// FNV-1a, 64 bits: a stable hash for file names and fingerprints.
pub(super) fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Header fields, appended one after another.
#[derive(Default)]
pub(super) struct Fields(pub(super) Vec<u8>);

impl Fields {
    pub(super) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(super) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn str(&mut self, v: &str) {
        self.u64(v.len() as u64);
        self.0.extend_from_slice(v.as_bytes());
    }
}

/// Header fields read back in the order they were written; every read is
/// `None` past the end, so a short or damaged header is refused, not a panic.
pub(super) struct FieldReader<'h> {
    data: &'h [u8],
}

impl<'h> FieldReader<'h> {
    pub(super) fn new(data: &'h [u8]) -> FieldReader<'h> {
        FieldReader { data }
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.data.split_first_chunk::<N>()?;
        self.data = rest;
        Some(*head)
    }

    pub(super) fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    pub(super) fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    pub(super) fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
    pub(super) fn i64(&mut self) -> Option<i64> {
        self.take().map(i64::from_le_bytes)
    }
    /// A count of things each taking at least one byte of the header: at
    /// most what is left, so a damaged count cannot ask for a huge
    /// allocation.
    pub(super) fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n <= self.data.len()).then_some(n)
    }
    /// What is left to read.
    pub(super) fn rest(&self) -> &'h [u8] {
        self.data
    }

    pub(super) fn str(&mut self) -> Option<String> {
        let n = self.count()?;
        let (text, rest) = self.data.split_at(n);
        self.data = rest;
        String::from_utf8(text.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_does_not_depend_on_how_the_stream_is_cut() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let whole = checksum(&data);
        for cut in [1, 5, 31, 32, 33, 100, 999] {
            let mut sum = Checksum::new();
            for piece in data.chunks(cut) {
                sum.update(piece);
            }
            assert_eq!(sum.finish(), whole, "pieces of {cut}");
        }
        let mut changed = data.clone();
        for at in [0, 31, 32, 500, 999] {
            changed[at] ^= 1;
            assert_ne!(checksum(&changed), whole, "byte {at}");
            changed[at] ^= 1;
        }
        assert_ne!(checksum(&data[..999]), whole);
        let mut longer = data.clone();
        longer.push(0);
        assert_ne!(checksum(&longer), whole);
    }

    #[test]
    fn fields_read_back_and_refuse_short_input() {
        let mut f = Fields::default();
        f.u8(7);
        f.u32(70_000);
        f.i64(-5);
        f.str("héllo");
        let mut r = FieldReader::new(&f.0);
        assert_eq!(r.u8(), Some(7));
        assert_eq!(r.u32(), Some(70_000));
        assert_eq!(r.i64(), Some(-5));
        assert_eq!(r.str().as_deref(), Some("héllo"));
        assert_eq!(r.u8(), None);
        let mut short = FieldReader::new(&f.0[..f.0.len() - 1]);
        short.u8();
        short.u32();
        short.i64();
        assert_eq!(short.str(), None);
    }
}
