//! Columns under construction: values in arrival order, turned into finished
//! [`Column`]s once every row is in (gathered into key order when the table
//! is sorted by key).
//!
//! Text is dictionary-encoded as it arrives: a value already seen costs one
//! hash lookup on the bytes as read, with no copy and no UTF-8 check (it was
//! checked when first seen). When values stop repeating (more than 256
//! distinct ones, and more than one per two rows) the column turns into
//! plain text, back to back, for the rest of the load.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::bitmap::Bitmap;
use super::column::{Column, ColumnData, Ints, Seconds, Text};
use crate::schema::FieldType;

/// Values of one field in arrival order; NULL rows hold a placeholder.
pub(crate) enum Pending {
    Uuid(Vec<u128>),
    Int(Vec<i64>),
    Decimal(Vec<f64>),
    Bool(Vec<bool>),
    Date(Vec<i32>),
    DateTime(Vec<i64>),
    Text(PendingText),
}

/// A text column being read. NULL rows hold the empty text.
pub(crate) enum PendingText {
    /// `codes[row]` is the code of the row's value in `map`, numbered in
    /// order of first arrival.
    Dict {
        map: HashMap<Box<[u8]>, u32, FastHash>,
        codes: Vec<u32>,
    },
    /// Row `i` is `bytes[offsets[i]..offsets[i + 1]]`.
    Plain { offsets: Vec<usize>, bytes: String },
}

/// A multiply-rotate hash (as rustc's FxHash): the dictionary lookups during
/// a load are the hot path, and std's SipHash costs several times more per
/// short text. Its weak mixing is no concern for a dictionary that gives up
/// after a few hundred distinct values when they do not repeat.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

type FastHash = BuildHasherDefault<Fx>;

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl PendingText {
    fn new() -> PendingText {
        PendingText::Dict {
            map: HashMap::default(),
            codes: Vec::new(),
        }
    }

    /// Appends `raw`; false (and nothing appended) when it is not UTF-8.
    fn push(&mut self, raw: &[u8]) -> bool {
        match self {
            PendingText::Dict { map, codes } => {
                if let Some(&code) = map.get(raw) {
                    codes.push(code);
                    return true;
                }
                if std::str::from_utf8(raw).is_err() {
                    return false;
                }
                let code = map.len() as u32;
                map.insert(raw.into(), code);
                codes.push(code);
                if map.len() > 256 && 2 * map.len() > codes.len() {
                    self.spell_out();
                }
                true
            }
            PendingText::Plain { offsets, bytes } => match std::str::from_utf8(raw) {
                Ok(s) => {
                    bytes.push_str(s);
                    offsets.push(bytes.len());
                    true
                }
                Err(_) => false,
            },
        }
    }

    /// Appends the rows of `other`.
    fn append(&mut self, other: PendingText) {
        match (&mut *self, other) {
            (
                PendingText::Dict { map, codes },
                PendingText::Dict {
                    map: more,
                    codes: more_codes,
                },
            ) => {
                let mut remap = vec![0u32; more.len()];
                for (value, code) in more {
                    let next = map.len() as u32;
                    remap[code as usize] = *map.entry(value).or_insert(next);
                }
                codes.extend(more_codes.into_iter().map(|c| remap[c as usize]));
                if map.len() > 256 && 2 * map.len() > codes.len() {
                    self.spell_out();
                }
            }
            (_, mut other) => {
                self.spell_out();
                other.spell_out();
                if let (
                    PendingText::Plain { offsets, bytes },
                    PendingText::Plain {
                        offsets: more_offsets,
                        bytes: more_bytes,
                    },
                ) = (self, other)
                {
                    let base = bytes.len();
                    offsets.extend(more_offsets[1..].iter().map(|&o| base + o));
                    bytes.push_str(&more_bytes);
                }
            }
        }
    }

    /// Values do not repeat enough: spell out the rows read so far.
    fn spell_out(&mut self) {
        let PendingText::Dict { map, codes } = self else {
            return;
        };
        let mut by_code: Vec<&[u8]> = vec![&[]; map.len()];
        for (value, &code) in map.iter() {
            by_code[code as usize] = value;
        }
        let mut raw = Vec::new();
        let mut offsets = Vec::with_capacity(codes.len() + 1);
        offsets.push(0);
        for &c in codes.iter() {
            raw.extend_from_slice(by_code[c as usize]);
            offsets.push(raw.len());
        }
        // Every dictionary entry was checked to be UTF-8 when it arrived.
        let bytes = String::from_utf8_lossy(&raw).into_owned();
        *self = PendingText::Plain { offsets, bytes };
    }

    /// Finishes the column with rows in `perm` order (arrival order if none).
    fn finish(self, perm: Option<&[u32]>) -> Text {
        match self {
            PendingText::Dict { map, codes } => {
                // Number the values in byte order (= code point order), so
                // ordering tests become code ranges.
                let mut distinct: Vec<(Box<[u8]>, u32)> = map.into_iter().collect();
                distinct.sort_unstable();
                let mut remap = vec![0u32; distinct.len()];
                for (new, (_, old)) in distinct.iter().enumerate() {
                    remap[*old as usize] = new as u32;
                }
                let codes = match perm {
                    Some(perm) => perm
                        .iter()
                        .map(|&r| remap[codes[r as usize] as usize])
                        .collect(),
                    None => codes.into_iter().map(|c| remap[c as usize]).collect(),
                };
                let values = distinct
                    .into_iter()
                    .map(|(v, _)| String::from_utf8_lossy(&v).into_owned())
                    .collect();
                Text::Dict { codes, values }
            }
            PendingText::Plain { offsets, bytes } => {
                let (offsets, bytes) = match perm {
                    None => (offsets, bytes),
                    Some(perm) => {
                        let mut out_offsets = Vec::with_capacity(perm.len() + 1);
                        let mut out = String::with_capacity(bytes.len());
                        out_offsets.push(0);
                        for &r in perm {
                            out.push_str(&bytes[offsets[r as usize]..offsets[r as usize + 1]]);
                            out_offsets.push(out.len());
                        }
                        (out_offsets, out)
                    }
                };
                Text::Plain {
                    offsets: offsets.into(),
                    bytes: bytes.into_bytes().into(),
                    folded: Default::default(),
                }
            }
        }
    }
}

/// One field being read.
pub(crate) struct PendingColumn {
    pub(crate) name: String,
    pub(crate) data: Pending,
    /// Rows so far.
    rows: usize,
    /// The rows holding NULL, ascending (most values are not NULL, so
    /// keeping these is cheaper than a flag per row).
    nulls: Vec<u32>,
}

impl PendingColumn {
    pub(crate) fn new(name: &str, ty: &FieldType) -> PendingColumn {
        let data = match ty {
            FieldType::Uuid => Pending::Uuid(Vec::new()),
            FieldType::Text => Pending::Text(PendingText::new()),
            FieldType::Integer | FieldType::Choice(_) => Pending::Int(Vec::new()),
            FieldType::Decimal => Pending::Decimal(Vec::new()),
            FieldType::Bool => Pending::Bool(Vec::new()),
            FieldType::Date => Pending::Date(Vec::new()),
            FieldType::DateTime => Pending::DateTime(Vec::new()),
        };
        PendingColumn {
            name: name.to_string(),
            data,
            rows: 0,
            nulls: Vec::new(),
        }
    }

    pub(crate) fn push_null(&mut self) {
        match &mut self.data {
            Pending::Uuid(v) => v.push(0),
            Pending::Int(v) => v.push(0),
            Pending::Decimal(v) => v.push(0.0),
            Pending::Bool(v) => v.push(false),
            Pending::Date(v) => v.push(0),
            Pending::DateTime(v) => v.push(0),
            Pending::Text(t) => {
                t.push(b"");
            }
        }
        self.nulls.push(self.rows as u32);
        self.rows += 1;
    }

    /// Makes room for `more` rows.
    pub(crate) fn reserve(&mut self, more: usize) {
        match &mut self.data {
            Pending::Uuid(v) => v.reserve(more),
            Pending::Int(v) | Pending::DateTime(v) => v.reserve(more),
            Pending::Decimal(v) => v.reserve(more),
            Pending::Bool(v) => v.reserve(more),
            Pending::Date(v) => v.reserve(more),
            Pending::Text(PendingText::Dict { codes, .. }) => codes.reserve(more),
            Pending::Text(PendingText::Plain { offsets, .. }) => offsets.reserve(more),
        }
    }

    /// Appends the rows of `other`, a column of the same field.
    pub(crate) fn append(&mut self, other: PendingColumn) {
        match (&mut self.data, other.data) {
            (Pending::Uuid(v), Pending::Uuid(w)) => v.extend(w),
            (Pending::Int(v), Pending::Int(w)) => v.extend(w),
            (Pending::Decimal(v), Pending::Decimal(w)) => v.extend(w),
            (Pending::Bool(v), Pending::Bool(w)) => v.extend(w),
            (Pending::Date(v), Pending::Date(w)) => v.extend(w),
            (Pending::DateTime(v), Pending::DateTime(w)) => v.extend(w),
            (Pending::Text(t), Pending::Text(u)) => t.append(u),
            // Parts of one table have the same fields, in the same order.
            _ => {}
        }
        let base = self.rows as u32;
        self.nulls.extend(other.nulls.into_iter().map(|r| base + r));
        self.rows += other.rows;
    }

    /// The values of a uuid column so far and its NULL rows (whose values
    /// are placeholders).
    pub(crate) fn uuids(&self) -> Option<(&[u128], &[u32])> {
        match &self.data {
            Pending::Uuid(v) => Some((v, &self.nulls)),
            _ => None,
        }
    }

    /// Marks the value just pushed into `data` as present.
    pub(crate) fn pushed(&mut self) {
        self.rows += 1;
    }

    /// Appends a text value given as bytes; false (nothing appended) when
    /// this is not a text column or the bytes are not UTF-8.
    pub(crate) fn push_text(&mut self, raw: &[u8]) -> bool {
        let ok = match &mut self.data {
            Pending::Text(t) => t.push(raw),
            _ => false,
        };
        if ok {
            self.pushed();
        }
        ok
    }

    /// The finished column, rows in `perm` order (arrival order if none).
    pub(crate) fn finish(self, perm: Option<&[u32]>) -> Column {
        fn gather<T: Copy>(v: Vec<T>, perm: Option<&[u32]>) -> Vec<T> {
            match perm {
                Some(perm) => perm.iter().map(|&r| v[r as usize]).collect(),
                None => v,
            }
        }
        let rows = self.rows;
        let bits = |v: &[bool]| match perm {
            Some(perm) => Bitmap::from_fn(rows, |i| v[perm[i] as usize]),
            None => Bitmap::from_fn(rows, |i| v[i]),
        };
        // Validity in arrival order.
        let arrived_valid = (!self.nulls.is_empty()).then(|| {
            let mut valid = Bitmap::ones(rows);
            for &r in &self.nulls {
                valid.clear(r as usize);
            }
            valid
        });
        // Narrowed first: gathering narrow values moves less memory.
        let gather_ints = |ints: Ints| match ints {
            Ints::I8(v) => Ints::I8(gather(v.into_vec(), perm).into()),
            Ints::I16(v) => Ints::I16(gather(v.into_vec(), perm).into()),
            Ints::I32(v) => Ints::I32(gather(v.into_vec(), perm).into()),
            Ints::I64(v) => Ints::I64(gather(v.into_vec(), perm).into()),
        };
        let data = match self.data {
            Pending::Uuid(v) => ColumnData::Uuid(gather(v, perm).into()),
            Pending::Int(v) => ColumnData::Int(gather_ints(Ints::narrow(v))),
            Pending::Decimal(v) => ColumnData::Decimal(gather(v, perm).into()),
            Pending::Bool(v) => ColumnData::Bool(bits(&v)),
            Pending::Date(v) => ColumnData::Date(gather(v, perm).into()),
            Pending::DateTime(mut v) => {
                // NULL rows hold 0, which would stretch the offsets' range
                // back to 1970; any stored value keeps them inside it (no
                // test reads a NULL row's value).
                if let Some(valid) = &arrived_valid {
                    if let Some(some) = valid.iter_ones().next() {
                        let some = v[some];
                        for &r in &self.nulls {
                            v[r as usize] = some;
                        }
                    }
                }
                let seconds = Seconds::new(v);
                ColumnData::DateTime(Seconds {
                    base: seconds.base,
                    offsets: gather_ints(seconds.offsets),
                })
            }
            Pending::Text(t) => ColumnData::Text(t.finish(perm)),
        };
        let valid = arrived_valid.map(|valid| match perm {
            Some(perm) => Bitmap::from_fn(rows, |i| valid.get(perm[i] as usize)),
            None => valid,
        });
        Column { data, valid }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(column: &Column) -> Vec<Option<String>> {
        let ColumnData::Text(text) = &column.data else {
            panic!("not text");
        };
        (0..column.len())
            .map(|i| {
                column.is_valid(i).then(|| match text {
                    Text::Dict { codes, values } => values[codes[i] as usize].clone(),
                    Text::Plain { offsets, bytes, .. } => {
                        String::from_utf8_lossy(&bytes[offsets[i]..offsets[i + 1]]).into()
                    }
                })
            })
            .collect()
    }

    fn build(values: &[Option<String>], perm: Option<&[u32]>) -> Column {
        let mut col = PendingColumn::new("t", &FieldType::Text);
        for v in values {
            match v {
                Some(s) => assert!(col.push_text(s.as_bytes())),
                None => col.push_null(),
            }
        }
        col.finish(perm)
    }

    #[test]
    fn text_is_kept_exactly_whether_it_repeats_or_not() {
        let repeating: Vec<Option<String>> = (0..2000)
            .map(|i| (i % 7 != 3).then(|| format!("v{}", (i * 31) % 40)))
            .collect();
        let unique: Vec<Option<String>> = (0..2000)
            .map(|i| (i % 5 != 0).then(|| format!("é{i}")))
            .collect();
        for (values, storage) in [(&repeating, "text-dict"), (&unique, "text")] {
            let col = build(values, None);
            assert_eq!(col.storage(), storage);
            assert_eq!(&texts(&col), values);
            let perm: Vec<u32> = (0..values.len() as u32).rev().collect();
            let col = build(values, Some(&perm));
            let reversed: Vec<_> = values.iter().rev().cloned().collect();
            assert_eq!(texts(&col), reversed);
        }
    }

    #[test]
    fn a_dictionary_is_in_byte_order() {
        let values: Vec<Option<String>> = ["b", "a", "é", "B", "a"]
            .iter()
            .map(|s| Some(s.to_string()))
            .collect();
        let col = build(&values, None);
        let ColumnData::Text(Text::Dict { values: dict, .. }) = &col.data else {
            panic!("not a dictionary");
        };
        assert_eq!(dict, &["B", "a", "b", "é"]);
    }

    #[test]
    fn invalid_utf8_is_refused_and_not_stored() {
        let mut col = PendingColumn::new("t", &FieldType::Text);
        assert!(col.push_text(b"ok"));
        assert!(!col.push_text(&[0xff, 0xfe]));
        assert_eq!(col.finish(None).len(), 1);
    }
}
