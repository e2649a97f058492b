//! `contains` over a plain text column: ASCII case ignored (SPEC §2.2),
//! searched a piece of the column at a time rather than row by row.
//!
//! The rows' bytes are folded to ASCII lowercase a cache-sized piece at a
//! time and each piece searched in one pass (memchr's SIMD substring
//! search), so a search costs a read of the column and no copy of it: the
//! column may be a mapped snapshot, and a folded copy of all of it would
//! be the largest allocation of a one-shot run. A column searched again
//! (a store kept for many segments) keeps a folded copy from its second
//! search on ([`FoldedCopy`]), which spares the folding thereafter.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use memchr::memmem::Finder;

use super::threads;

/// Bytes of text folded at a time: a piece stays in the L2 cache between
/// folding it and searching it.
const PIECE: usize = 64 << 10;

/// The fewest bytes of text a thread of its own searches.
const BYTES_PER_THREAD: usize = 4 << 20;

/// The rows of a plain text column: row `i` is `bytes[offsets[i]..offsets[i
/// + 1]]`; `folded` when `bytes` are ASCII-lowercased already.
#[derive(Clone, Copy)]
pub(crate) struct Rows<'a> {
    pub(crate) offsets: &'a [usize],
    pub(crate) bytes: &'a [u8],
    pub(crate) folded: bool,
}

/// The folded copy of a plain text column, made by its second whole-column
/// search and kept for the later ones: a one-shot run searches a column
/// once, and folding its pieces costs less than allocating (and the kernel
/// zeroing) a copy of all of it; a store kept for many segments pays the
/// copy once and then searches without folding.
#[derive(Debug, Default)]
pub(crate) struct FoldedCopy {
    searches: AtomicU32,
    copy: OnceLock<Vec<u8>>,
}

impl FoldedCopy {
    /// The rows to search for a whole-column search of the column of
    /// `offsets` and `bytes`: folded when this is its second search or a
    /// later one.
    pub(crate) fn rows<'a>(&'a self, offsets: &'a [usize], bytes: &'a [u8]) -> Rows<'a> {
        if self.copy.get().is_none() && self.searches.fetch_add(1, Ordering::Relaxed) >= 1 {
            self.copy.get_or_init(|| bytes.to_ascii_lowercase());
        }
        self.made_rows(offsets, bytes)
    }

    /// The rows to search for a search of a range of rows: folded if the
    /// copy has been made (a range does not make it).
    pub(crate) fn made_rows<'a>(&'a self, offsets: &'a [usize], bytes: &'a [u8]) -> Rows<'a> {
        match self.copy.get() {
            Some(copy) => Rows {
                offsets,
                bytes: copy,
                folded: true,
            },
            None => Rows {
                offsets,
                bytes,
                folded: false,
            },
        }
    }
}

/// A clone starts without a copy: it is made again if the clone is
/// searched again.
impl Clone for FoldedCopy {
    fn clone(&self) -> FoldedCopy {
        FoldedCopy::default()
    }
}

/// A `contains` search for one needle.
pub(crate) struct Contains {
    finder: Finder<'static>,
}

impl Contains {
    /// The search for `needle`, already ASCII-lowercased.
    pub(crate) fn new(needle: &[u8]) -> Contains {
        Contains {
            finder: Finder::new(needle).into_owned(),
        }
    }

    /// The rows holding the needle, as bitmap words; on several threads
    /// when the column is large.
    pub(crate) fn all(&self, rows: Rows<'_>) -> Vec<u64> {
        let mut words = vec![0u64; (rows.offsets.len() - 1).div_ceil(64)];
        let threads = threads::for_items(rows.bytes.len(), BYTES_PER_THREAD);
        let per_thread = words.len().div_ceil(threads).max(1);
        if threads < 2 {
            self.set_hits(rows, 0, &mut words);
        } else {
            std::thread::scope(|scope| {
                for (i, part) in words.chunks_mut(per_thread).enumerate() {
                    scope.spawn(move || self.set_hits(rows, i * per_thread, part));
                }
            });
        }
        words
    }

    /// Sets the bits of `words` (rows `64 * first_word..`, to the end of
    /// the column at most) of the rows holding the needle.
    pub(crate) fn set_hits(&self, rows: Rows<'_>, first_word: usize, words: &mut [u64]) {
        let Rows {
            offsets,
            bytes,
            folded,
        } = rows;
        let rows = offsets.len() - 1;
        let start = (first_word * 64).min(rows);
        let end = (start + words.len() * 64).min(rows);
        let mut set = |row: usize| {
            let bit = row - first_word * 64;
            words[bit / 64] |= 1 << (bit % 64);
        };
        if self.finder.needle().is_empty() {
            (start..end).for_each(set);
            return;
        }
        let mut buffer = Vec::new();
        let mut first = start;
        while first < end {
            let last = piece_end(offsets, first, end);
            let piece = &bytes[offsets[first]..offsets[last]];
            let piece = if folded {
                piece
            } else {
                // A copy, then folded in place: both loops vectorize,
                // where folding while copying byte by byte did not.
                buffer.clear();
                buffer.extend_from_slice(piece);
                buffer.make_ascii_lowercase();
                &buffer
            };
            self.search_piece(&offsets[first..=last], piece, |row| set(first + row));
            first = last;
        }
    }

    /// Calls `hit(i)` for each row `i` of a piece holding the needle:
    /// `folded` is the piece's bytes folded, row `i` its bytes
    /// `offsets[i] - offsets[0]..offsets[i + 1] - offsets[0]`.
    ///
    /// One search runs through the whole piece. A match that runs past the
    /// end of its row is none, and no later start in that row can be one
    /// either (it would run further), so the search resumes at the next
    /// row.
    fn search_piece(&self, offsets: &[usize], folded: &[u8], mut hit: impl FnMut(usize)) {
        let base = offsets[0];
        let rows = offsets.len() - 1;
        let needle = self.finder.needle().len();
        let (mut pos, mut row) = (0, 0);
        while let Some(found) = self.finder.find(&folded[pos..]) {
            let at = base + pos + found;
            // The row holding byte `at`: the last row starting at or before
            // it. Matches are near or far: gallop forward, then search the
            // last stride (a search over all remaining rows would miss the
            // cache at once).
            let mut stride = 1;
            while row + stride < rows && offsets[row + stride + 1] <= at {
                row += stride;
                stride *= 2;
            }
            let window = &offsets[row + 1..(row + stride + 1).min(rows + 1)];
            row += window.partition_point(|&end| end <= at);
            if at + needle <= offsets[row + 1] {
                hit(row);
            }
            pos = offsets[row + 1] - base;
            row += 1;
            if row >= rows {
                break;
            }
        }
    }
}

/// The end of the piece of rows starting at row `first`: the last row
/// `last <= end` whose rows `first..last` hold at most [`PIECE`] bytes, at
/// least `first + 1`. Found by galloping forward from `first` then
/// searching the last stride, so each piece looks at the offsets near it
/// only (a search over all the rows left missed the cache at every step).
fn piece_end(offsets: &[usize], first: usize, end: usize) -> usize {
    let limit = offsets[first] + PIECE;
    let (mut last, mut stride) = (first + 1, 1);
    while last < end && offsets[(last + stride).min(end)] <= limit {
        last = (last + stride).min(end);
        stride *= 2;
    }
    // Rows `first..last` fit (or `last` is `first + 1`); the end lies in
    // `last..=last + stride`.
    let window = &offsets[(last + 1).min(end + 1)..=(last + stride).min(end)];
    last + window.partition_point(|&o| o <= limit)
}

/// Whether `hay` contains `needle` (ASCII-lowercase) ignoring ASCII case:
/// the test of one row. Byte matching is sound for UTF-8: folding leaves
/// non-ASCII bytes alone, and a valid needle can only match at character
/// boundaries.
pub(crate) fn contains_folded(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    if hay.len() < needle.len() {
        return false;
    }
    (0..=hay.len() - needle.len()).any(|i| {
        hay[i].to_ascii_lowercase() == first
            && hay[i..i + needle.len()].eq_ignore_ascii_case(needle)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of every kind: empty, the needle at the start, middle and end,
    /// cut across two rows, mixed case, non-ASCII; long stretches without
    /// a match (the search between matches) and rows longer than a piece.
    fn rows() -> Vec<String> {
        let mut rows: Vec<String> = [
            "",
            "xmueller",
            "MUE",
            "ller",
            "mUeLlEr",
            "é",
            "mueLLER.de",
            "mue",
            "mueller",
        ]
        .map(String::from)
        .to_vec();
        rows.extend(std::iter::repeat_n("abc".to_string(), 40));
        rows.push("MUELLER".into());
        rows.extend(std::iter::repeat_n(String::new(), 20));
        rows.push("zmueller".into());
        rows.push(format!("{}mueller", "y".repeat(PIECE + 3)));
        rows.push("mue".repeat(PIECE / 2));
        rows.push(format!("{}ller", "q".repeat(PIECE - 3)));
        for i in 0..20_000 {
            rows.push(format!("r{i}@mueller-{}.example", i % 7));
        }
        rows
    }

    #[test]
    fn piece_by_piece_search_matches_row_by_row_search() {
        let rows = rows();
        let mut offsets = vec![0];
        let mut bytes = Vec::new();
        for r in &rows {
            bytes.extend_from_slice(r.as_bytes());
            offsets.push(bytes.len());
        }
        let mut some_hit = false;
        for needle in [
            "mueller", "mue", "e", "é", "x", "ll", "zz", "ermu", "abc", "ca", "rz", "", "yyym",
            "-3.ex",
        ] {
            let search = Contains::new(needle.as_bytes());
            let want: Vec<bool> = rows
                .iter()
                .map(|r| contains_folded(r.as_bytes(), needle.as_bytes()))
                .collect();
            some_hit |= want.iter().filter(|&&w| w).count() > 1;
            let plain = Rows {
                offsets: &offsets,
                bytes: &bytes,
                folded: false,
            };
            let copy = bytes.to_ascii_lowercase();
            let folded = Rows {
                bytes: &copy,
                folded: true,
                ..plain
            };
            let whole = search.all(plain);
            assert_eq!(search.all(folded), whole, "{needle:?}");
            let got = |words: &[u64], i: usize| words[i / 64] >> (i % 64) & 1 == 1;
            for (i, &w) in want.iter().enumerate() {
                assert_eq!(got(&whole, i), w, "{needle:?} row {i}");
            }
            // A range of words, as the fused passes ask for.
            for first_word in [0, 1, 5, 300] {
                let mut words = vec![0u64; 7];
                search.set_hits(plain, first_word, &mut words);
                for (k, i) in (first_word * 64..((first_word + 7) * 64).min(rows.len())).enumerate()
                {
                    assert_eq!(got(&words, k), want[i], "{needle:?} row {i}");
                }
            }
        }
        assert!(some_hit);
    }

    #[test]
    fn the_second_whole_column_search_makes_the_folded_copy() {
        let (offsets, bytes) = (vec![0, 3, 6], b"AbCdEf".to_vec());
        let copy = FoldedCopy::default();
        assert!(!copy.made_rows(&offsets, &bytes).folded);
        let first = copy.rows(&offsets, &bytes);
        assert!(!first.folded && first.bytes == b"AbCdEf");
        assert!(!copy.made_rows(&offsets, &bytes).folded);
        for _ in 0..2 {
            let later = copy.rows(&offsets, &bytes);
            assert!(later.folded && later.bytes == b"abcdef");
        }
        assert!(copy.made_rows(&offsets, &bytes).folded);
        assert!(!copy.clone().made_rows(&offsets, &bytes).folded);
    }

    #[test]
    fn folding_is_ascii_only() {
        assert!(contains_folded("école".as_bytes(), b"cole"));
        assert!(contains_folded("ÉCOLE".as_bytes(), b"cole"));
        assert!(!contains_folded("ÉCOLE".as_bytes(), "é".as_bytes()));
        assert!(contains_folded(b"abc", b""));
        assert!(!contains_folded(b"ab", b"abc"));
    }
}
