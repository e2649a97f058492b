//! The arrays a column's values live in: owned by the column, or a view of
//! bytes shared with others — a memory-mapped snapshot file.
//!
//! A store read from a snapshot maps the file and points its columns into
//! it: the values come from the page cache as they are, where reading them
//! into fresh vectors first had the kernel zero every page, then copied
//! them (at 1M contacts, most of a one-shot run's time). Either way an
//! [`Array`] reads as a slice; only where it is built differs.

use std::fmt;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::Arc;

/// Numbers viewed as raw bytes, and raw bytes as numbers: each has no
/// padding and every bit pattern of its size is a value, so a slice of them
/// may be read as bytes, filled from bytes, or pointed at suitably aligned
/// bytes (snapshot files are little-endian, as the memory of the targets
/// that keep snapshots).
pub(crate) trait Raw: Copy + Default + Send + Sync + 'static {}

impl Raw for u8 {}
impl Raw for i8 {}
impl Raw for i16 {}
impl Raw for i32 {}
impl Raw for u32 {}
impl Raw for i64 {}
impl Raw for u64 {}
impl Raw for usize {}
impl Raw for u128 {}
impl Raw for f64 {}

/// Bytes that arrays may point into: they stay where they are, unchanged,
/// as long as the value lives.
pub(crate) trait Backing: Send + Sync + 'static {
    fn bytes(&self) -> &[u8];
}

/// A read-only mapping of a file. The file must not change while it is
/// mapped: snapshot files are written once, to a temporary name renamed
/// into place, and never written again (removing one leaves the mapping
/// intact).
impl Backing for memmap2::Mmap {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// A fixed-length array of `T`, read as a slice.
pub(crate) struct Array<T> {
    /// The first element: into `owner`'s vector, or into its backing's
    /// bytes.
    start: NonNull<T>,
    len: usize,
    owner: Owner<T>,
}

/// What keeps an array's elements alive.
enum Owner<T> {
    Vec(Vec<T>),
    Shared(Arc<dyn Backing>),
}

// SAFETY: an `Array` is an owned vector or an immutable view of bytes kept
// alive by an `Arc` of a `Send + Sync` backing; the pointer only caches
// where the elements are. It is never written through, so sharing or
// sending it is as safe as sharing or sending a `Vec<T>`.
unsafe impl<T: Send> Send for Array<T> {}
unsafe impl<T: Sync> Sync for Array<T> {}

impl<T> Array<T> {
    /// The array of `values`.
    pub(crate) fn owned(mut values: Vec<T>) -> Array<T> {
        // A vector's buffer does not move when the vector does, so the
        // pointer stays valid once the vector is inside `owner`.
        let start = NonNull::new(values.as_mut_ptr()).unwrap_or(NonNull::dangling());
        Array {
            start,
            len: values.len(),
            owner: Owner::Vec(values),
        }
    }
}

impl<T: Raw> Array<T> {
    /// The `len` values of `T` at byte `at` of `backing`; `None` when they
    /// do not lie within it or are not aligned for `T`.
    pub(crate) fn shared(backing: &Arc<dyn Backing>, at: usize, len: usize) -> Option<Array<T>> {
        let bytes = backing.bytes();
        let size = len.checked_mul(std::mem::size_of::<T>())?;
        let region = bytes.get(at..at.checked_add(size)?)?;
        let start = region.as_ptr().cast::<T>();
        if !start.is_aligned() {
            return None;
        }
        Some(Array {
            // A subslice's pointer is never null.
            start: NonNull::new(start.cast_mut())?,
            len,
            owner: Owner::Shared(Arc::clone(backing)),
        })
    }

    /// The values as a vector of their own (a copy when they are shared).
    pub(crate) fn into_vec(self) -> Vec<T> {
        match self.owner {
            Owner::Vec(v) => v,
            Owner::Shared(_) => self.to_vec(),
        }
    }
}

impl<T> Deref for Array<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        // SAFETY: `start` points at `len` initialized values of `T`, kept
        // alive and unchanged by `owner`: the vector it was taken from, or
        // bytes `Array::shared` checked to hold `len` aligned values of a
        // `Raw` type (any bit pattern a value).
        unsafe { std::slice::from_raw_parts(self.start.as_ptr(), self.len) }
    }
}

impl<T: Clone> Clone for Array<T> {
    fn clone(&self) -> Array<T> {
        match &self.owner {
            Owner::Vec(v) => Array::owned(v.clone()),
            Owner::Shared(backing) => Array {
                start: self.start,
                len: self.len,
                owner: Owner::Shared(Arc::clone(backing)),
            },
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.deref().fmt(f)
    }
}

impl<T: PartialEq> PartialEq for Array<T> {
    fn eq(&self, other: &Array<T>) -> bool {
        self.deref() == other.deref()
    }
}

impl<T> From<Vec<T>> for Array<T> {
    fn from(values: Vec<T>) -> Array<T> {
        Array::owned(values)
    }
}

impl<T> FromIterator<T> for Array<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Array<T> {
        Array::owned(iter.into_iter().collect())
    }
}

impl<'a, T> IntoIterator for &'a Array<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> std::slice::Iter<'a, T> {
        self.iter()
    }
}

impl<T> Default for Array<T> {
    fn default() -> Array<T> {
        Array::owned(Vec::new())
    }
}

/// Bytes in memory, aligned for any [`Raw`] type: a backing for arrays
/// read from bytes that are not a file (tests, and snapshots where files
/// cannot be mapped).
pub(crate) struct AlignedBytes {
    words: Vec<u128>,
    len: usize,
}

impl AlignedBytes {
    /// `len` zero bytes, to be overwritten through [`AlignedBytes::bytes_mut`].
    pub(crate) fn zeroed(len: usize) -> AlignedBytes {
        AlignedBytes {
            words: vec![0u128; len.div_ceil(16)],
            len,
        }
    }

    #[cfg(test)]
    pub(crate) fn copy_of(bytes: &[u8]) -> AlignedBytes {
        let mut copy = AlignedBytes::zeroed(bytes.len());
        copy.bytes_mut().copy_from_slice(bytes);
        copy
    }

    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut bytes_mut(&mut self.words)[..self.len]
    }
}

impl Backing for AlignedBytes {
    fn bytes(&self) -> &[u8] {
        &as_bytes(&self.words)[..self.len]
    }
}

/// The bytes of `values`.
pub(crate) fn as_bytes<T: Raw>(values: &[T]) -> &[u8] {
    // SAFETY: `Raw` types have no padding, so every byte of the slice is
    // initialized; the view has the slice's address and byte length, and
    // `u8` needs no alignment.
    unsafe {
        std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values))
    }
}

/// The bytes of `values`, to be overwritten.
pub(crate) fn bytes_mut<T: Raw>(values: &mut [T]) -> &mut [u8] {
    // SAFETY: as in `as_bytes`; and since every bit pattern is a `Raw`
    // value, any bytes written through the view leave valid values behind.
    unsafe {
        std::slice::from_raw_parts_mut(
            values.as_mut_ptr().cast::<u8>(),
            std::mem::size_of_val(values),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_and_shared_arrays_read_alike() {
        let values: Vec<u32> = (0..1000).map(|i| i * 7).collect();
        let owned = Array::owned(values.clone());
        let backing: Arc<dyn Backing> = Arc::new(AlignedBytes::copy_of(as_bytes(&values)));
        let shared = Array::<u32>::shared(&backing, 0, values.len()).unwrap();
        let within = backing.bytes().as_ptr_range();
        assert!(within.contains(&shared.as_ptr().cast()));
        assert!(!within.contains(&owned.as_ptr().cast()));
        assert_eq!(&*shared, &values[..]);
        assert_eq!(shared, owned);
        // A clone of a shared array points at the same bytes, and outlives
        // the array it was cloned from.
        let clone = shared.clone();
        drop(shared);
        drop(backing);
        assert_eq!(&*clone, &values[..]);
        assert_eq!(clone.into_vec(), values);
        let tail = Array::<u32>::shared(
            &(Arc::new(AlignedBytes::copy_of(as_bytes(&values))) as Arc<dyn Backing>),
            4 * 990,
            10,
        )
        .unwrap();
        assert_eq!(&*tail, &values[990..]);
    }

    #[test]
    fn a_shared_array_must_lie_within_its_bytes_and_be_aligned() {
        let backing: Arc<dyn Backing> = Arc::new(AlignedBytes::copy_of(&[1u8; 64]));
        assert!(Array::<u64>::shared(&backing, 0, 8).is_some());
        assert!(
            Array::<u64>::shared(&backing, 8, 8).is_none(),
            "past the end"
        );
        assert!(Array::<u64>::shared(&backing, 64, 0).is_some());
        assert!(Array::<u64>::shared(&backing, 65, 0).is_none());
        assert!(Array::<u64>::shared(&backing, 4, 1).is_none(), "misaligned");
        assert!(
            Array::<u128>::shared(&backing, 8, 1).is_none(),
            "misaligned"
        );
        assert!(Array::<u8>::shared(&backing, 3, 61).is_some());
        assert!(Array::<u64>::shared(&backing, usize::MAX, 2).is_none());
        assert!(Array::<u64>::shared(&backing, 8, usize::MAX).is_none());
    }
}
