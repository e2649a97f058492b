//! A store in a snapshot file, and back.
//!
//! The file: a fixed prefix, a header, then the data.
//!
//! | bytes       | what                                                      |
//! |-------------|-----------------------------------------------------------|
//! | 0..8        | magic `SEGQLSNP`                                          |
//! | 8..12       | format version ([`VERSION`]), then 4 reserved bytes      |
//! | 16..24      | header length `h` (a multiple of 16)                      |
//! | 24..32      | data length `d`                                           |
//! | 32..40      | checksum of the header                                    |
//! | 40..48      | checksum of the data                                      |
//! | 48..48+h    | header: validation, needs, table of contents              |
//! | 48+h..+d    | data: every array of the contents, in order, 16-byte aligned |
//!
//! The table of contents walks the store — per table its entity, key field,
//! row count, keys, and per column its name, storage form, validity bitmap
//! and values; per link its relationship, tables and parent rows — giving
//! each array's element count where it comes; the arrays themselves are
//! the data, raw little-endian, in the same order. So reading maps the file
//! and points each column at its array where it lies ([`Array::shared`]),
//! summing the data in one pass.
//! Everything read is checked (lengths against row counts, codes against
//! dictionaries, parent rows against tables, keys ascending, text UTF-8 on
//! character boundaries) besides the checksums: a damaged or foreign file
//! is refused, never a panic or a wrong store.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use super::identity::Validation;
use super::raw::{align16, checksum, FieldReader, Fields};
use crate::eval::array::{as_bytes, Array, Backing, Raw};
use crate::eval::bitmap::Bitmap;
use crate::eval::column::{Column, ColumnData, Ints, Seconds, Text};
use crate::eval::keys::KeyIndex;
use crate::eval::load_sqlite::Needs;
use crate::eval::store::{LinkIndex, Store, Table, NONE};

const MAGIC: &[u8; 8] = b"SEGQLSNP";
/// Bumped whenever the layout or the meaning of anything stored changes:
/// files of another version are ignored.
pub(super) const VERSION: u32 = 3;
const PREFIX: usize = 48;
/// Bytes of an array summed at a time.
#[cfg(not(test))]
const PIECE: usize = 1 << 20;
/// Arrays at least this large are summed by several threads.
#[cfg(not(test))]
const SHARED_READ: usize = 8 << 20;
/// Small in tests, so that the small test stores are summed in pieces and
/// on several threads too.
#[cfg(test)]
const PIECE: usize = 1000;
#[cfg(test)]
const SHARED_READ: usize = 4000;

/// Storage forms, as tagged in the table of contents.
const UUID: u8 = 0;
const I16: u8 = 1;
const I32: u8 = 2;
const I64: u8 = 3;
const DECIMAL: u8 = 4;
const BOOL: u8 = 5;
const DATE: u8 = 6;
const DATETIME: u8 = 7;
const TEXT_DICT: u8 = 8;
const TEXT_PLAIN: u8 = 9;
const I8: u8 = 10;

/// A snapshot's header: what it was taken of and for, and where its data
/// lies.
pub(super) struct Header {
    pub(super) validation: Validation,
    pub(super) needs: Needs,
    /// The table of contents, still to be read (with the data).
    contents: Vec<u8>,
    /// Where the data starts in the file.
    data_start: u64,
    data_len: u64,
    data_sum: u64,
}

impl Header {
    /// Bytes of data: how much reading the store costs.
    pub(super) fn data_len(&self) -> u64 {
        self.data_len
    }
}

/// The bytes of `needs` in the header's form (also what a snapshot's file
/// name is derived from).
pub(super) fn needs_bytes(needs: &Needs) -> Vec<u8> {
    let mut f = Fields::default();
    write_needs(&mut f, needs);
    f.0
}

fn write_needs(f: &mut Fields, needs: &Needs) {
    f.u64(needs.fields.len() as u64);
    for (entity, fields) in &needs.fields {
        f.str(entity);
        f.u8(needs.keyed.contains(entity) as u8);
        f.u64(fields.len() as u64);
        for field in fields {
            f.str(field);
        }
    }
    f.u64(needs.relationships.len() as u64);
    for r in &needs.relationships {
        f.str(r);
    }
    f.u64(needs.links_only.len() as u64);
    for (entity, field) in &needs.links_only {
        f.str(entity);
        f.str(field);
    }
}

fn read_needs(r: &mut FieldReader<'_>) -> Option<Needs> {
    let mut needs = Needs {
        fields: BTreeMap::new(),
        relationships: BTreeSet::new(),
        keyed: BTreeSet::new(),
        links_only: BTreeSet::new(),
    };
    for _ in 0..r.count()? {
        let entity = r.str()?;
        if r.u8()? == 1 {
            needs.keyed.insert(entity.clone());
        }
        let fields = (0..r.count()?).map(|_| r.str()).collect::<Option<_>>()?;
        needs.fields.insert(entity, fields);
    }
    needs.relationships = (0..r.count()?).map(|_| r.str()).collect::<Option<_>>()?;
    needs.links_only = (0..r.count()?)
        .map(|_| Some((r.str()?, r.str()?)))
        .collect::<Option<_>>()?;
    Some(needs)
}

/// Writes `store`, loaded for `needs` from a database as `validation`
/// describes it, to `out` (positioned at its start).
pub(super) fn write<W: Write + Seek>(
    out: &mut W,
    validation: &Validation,
    needs: &Needs,
    store: &Store,
) -> io::Result<()> {
    let mut head = Fields::default();
    validation.write_to(&mut head);
    write_needs(&mut head, needs);
    let mut arrays = Arrays::default();
    contents(&mut head, &mut arrays, store, needs);
    while head.0.len() % 16 != 0 {
        head.0.push(0);
    }
    let data_len: u64 = arrays.0.iter().map(|a| align16(a.len() as u64)).sum();
    out.write_all(&prefix(head.0.len() as u64, data_len, checksum(&head.0), 0))?;
    out.write_all(&head.0)?;
    let mut piece_sums = Vec::new();
    for array in &arrays.0 {
        for piece in array.chunks(PIECE) {
            piece_sums.push(checksum(piece));
        }
        out.write_all(array)?;
        out.write_all(&[0u8; 16][..(align16(array.len() as u64) - array.len() as u64) as usize])?;
    }
    // The data's checksum is known only now: back to the prefix.
    out.seek(SeekFrom::Start(0))?;
    out.write_all(&prefix(
        head.0.len() as u64,
        data_len,
        checksum(&head.0),
        data_checksum(&piece_sums),
    ))
}

/// The data's checksum: that of the checksums of its pieces, every array
/// cut into [`PIECE`]s from its start (its padding, zeros, is checked
/// apart). Pieces can so be read and summed on several threads at once.
fn data_checksum(piece_sums: &[u64]) -> u64 {
    checksum(as_bytes(piece_sums))
}

fn prefix(head_len: u64, data_len: u64, head_sum: u64, data_sum: u64) -> [u8; PREFIX] {
    let mut p = [0u8; PREFIX];
    p[0..8].copy_from_slice(MAGIC);
    p[8..12].copy_from_slice(&VERSION.to_le_bytes());
    p[16..24].copy_from_slice(&head_len.to_le_bytes());
    p[24..32].copy_from_slice(&data_len.to_le_bytes());
    p[32..40].copy_from_slice(&head_sum.to_le_bytes());
    p[40..48].copy_from_slice(&data_sum.to_le_bytes());
    p
}

/// The data's arrays as bytes, in order.
#[derive(Default)]
struct Arrays<'s>(Vec<Cow<'s, [u8]>>);

impl<'s> Arrays<'s> {
    /// Adds `values`, recording their number in the header.
    fn add<T: Raw>(&mut self, head: &mut Fields, values: &'s [T]) {
        head.u64(values.len() as u64);
        self.0.push(Cow::Borrowed(as_bytes(values)));
    }

    fn add_owned<T: Raw>(&mut self, head: &mut Fields, values: Vec<T>) {
        head.u64(values.len() as u64);
        self.0.push(Cow::Owned(as_bytes(&values).to_vec()));
    }

    fn add_texts<'t>(&mut self, head: &mut Fields, texts: impl Iterator<Item = &'t str>) {
        let mut offsets = vec![0u64];
        let mut joined = Vec::new();
        for t in texts {
            joined.extend_from_slice(t.as_bytes());
            offsets.push(joined.len() as u64);
        }
        self.add_owned(head, offsets);
        self.add_owned(head, joined);
    }
}

/// The table of contents of `store` into `head`, its arrays into
/// `arrays`. Foreign keys read only to build links are left out: the links
/// hold what they said, and no test reads them.
fn contents<'s>(head: &mut Fields, arrays: &mut Arrays<'s>, store: &'s Store, needs: &Needs) {
    head.u64(store.tables.len() as u64);
    for t in &store.tables {
        head.str(&t.entity);
        head.str(&t.key_field);
        head.u64(t.rows as u64);
        head.u8(t.keys.is_some() as u8);
        if let Some(keys) = &t.keys {
            arrays.add(head, keys.keys());
        }
        let entity = t.entity.to_ascii_lowercase();
        let kept: Vec<&(String, Column)> = t
            .columns
            .iter()
            .filter(|(name, _)| {
                let key = (entity.clone(), name.to_ascii_lowercase());
                !needs.links_only.contains(&key)
            })
            .collect();
        head.u64(kept.len() as u64);
        for (name, column) in kept {
            head.str(name);
            head.u8(column.valid.is_some() as u8);
            if let Some(valid) = &column.valid {
                arrays.add(head, valid.words());
            }
            match &column.data {
                ColumnData::Uuid(v) => {
                    head.u8(UUID);
                    arrays.add(head, v);
                }
                ColumnData::Int(ints) => add_ints(head, arrays, ints),
                ColumnData::Decimal(v) => {
                    head.u8(DECIMAL);
                    arrays.add(head, v);
                }
                ColumnData::Bool(b) => {
                    head.u8(BOOL);
                    arrays.add(head, b.words());
                }
                ColumnData::Date(v) => {
                    head.u8(DATE);
                    arrays.add(head, v);
                }
                ColumnData::DateTime(seconds) => {
                    // The base, then the offsets as an integer column.
                    head.u8(DATETIME);
                    head.u64(seconds.base as u64);
                    add_ints(head, arrays, &seconds.offsets);
                }
                ColumnData::Text(Text::Dict { codes, values }) => {
                    head.u8(TEXT_DICT);
                    arrays.add(head, codes);
                    arrays.add_texts(head, values.iter().map(String::as_str));
                }
                ColumnData::Text(Text::Plain { offsets, bytes, .. }) => {
                    // Offsets as 64-bit words: snapshots are kept only
                    // where `usize` is one.
                    head.u8(TEXT_PLAIN);
                    arrays.add(head, offsets);
                    arrays.add(head, bytes);
                }
            }
        }
    }
    head.u64(store.links.len() as u64);
    for l in &store.links {
        head.str(&l.relationship);
        head.u64(l.child as u64);
        head.u64(l.parent as u64);
        head.u64(l.parents() as u64);
        arrays.add(head, &l.parent_of);
    }
}

/// Reads the prefix and header of the snapshot in `file` (`file_len`
/// bytes long); `None` when it is not one of this version, is cut short
/// or its header is damaged.
pub(super) fn read_header(file: &mut impl Read, file_len: u64) -> Option<Header> {
    let mut p = [0u8; PREFIX];
    file.read_exact(&mut p).ok()?;
    let word = |at: usize| u64::from_le_bytes(p[at..at + 8].try_into().unwrap_or_default());
    if &p[0..8] != MAGIC || p[8..12] != VERSION.to_le_bytes() || p[12..16] != [0; 4] {
        return None;
    }
    let (head_len, data_len, head_sum, data_sum) = (word(16), word(24), word(32), word(40));
    // The file must be exactly as long as its prefix says: a cut-short
    // write is refused before anything is allocated for it.
    if head_len % 16 != 0
        || (PREFIX as u64)
            .checked_add(head_len)?
            .checked_add(data_len)?
            != file_len
    {
        return None;
    }
    let mut head = vec![0u8; usize::try_from(head_len).ok()?];
    file.read_exact(&mut head).ok()?;
    if checksum(&head) != head_sum {
        return None;
    }
    let mut r = FieldReader::new(&head);
    let validation = Validation::read_from(&mut r)?;
    let needs = read_needs(&mut r)?;
    let contents = r.rest().to_vec();
    Some(Header {
        validation,
        needs,
        contents,
        data_start: PREFIX as u64 + head_len,
        data_len,
        data_sum,
    })
}

/// The store of the snapshot whose whole file is `file` and whose header
/// is `header`, its columns pointing into `file`; `None` if anything in it
/// is damaged.
pub(super) fn read_store(file: &Arc<dyn Backing>, header: &Header) -> Option<Store> {
    let mut data = DataReader {
        file,
        start: usize::try_from(header.data_start).ok()?,
        at: 0,
        len: usize::try_from(header.data_len).ok()?,
        sums: Vec::new(),
        threads: crate::eval::threads::available(),
    };
    if data.start.checked_add(data.len)? != file.bytes().len() {
        return None;
    }
    let mut head = FieldReader::new(&header.contents);
    let store = read_contents(&mut head, &mut data)?;
    (data.at == data.len && data_checksum(&data.sums) == header.data_sum).then_some(store)
}

/// The data, read array by array in order.
struct DataReader<'f> {
    file: &'f Arc<dyn Backing>,
    /// Where the data starts in the file.
    start: usize,
    /// Where the next array starts, from `start`.
    at: usize,
    len: usize,
    /// The checksums of the pieces read so far, in order.
    sums: Vec<u64>,
    threads: usize,
}

impl DataReader<'_> {
    /// The next array, of the element count the header gives, where it
    /// lies in the file.
    fn array<T: Raw>(&mut self, head: &mut FieldReader<'_>) -> Option<Array<T>> {
        let n = usize::try_from(head.u64()?).ok()?;
        let size = n.checked_mul(std::mem::size_of::<T>())?;
        let end = self.at.checked_add(size)?;
        let padded = usize::try_from(align16(end as u64)).ok()?;
        if padded > self.len {
            return None;
        }
        let bytes = &self.file.bytes()[self.start..][self.at..padded];
        let (values, pad) = bytes.split_at(size);
        if pad.iter().any(|&b| b != 0) {
            return None;
        }
        // A large array summed in one run of whole pieces per thread.
        let threads = if size >= SHARED_READ { self.threads } else { 1 };
        let per_thread = size.div_ceil(PIECE).div_ceil(threads).max(1) * PIECE;
        let sum_part = |part: &[u8]| part.chunks(PIECE).map(checksum).collect::<Vec<u64>>();
        if threads > 1 {
            let parts: Vec<Vec<u64>> = std::thread::scope(|scope| {
                let handles: Vec<_> = values
                    .chunks(per_thread)
                    .map(|part| scope.spawn(move || sum_part(part)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join())
                    .collect::<Result<_, _>>()
            })
            .ok()?;
            self.sums.extend(parts.into_iter().flatten());
        } else {
            self.sums.extend(sum_part(values));
        }
        let array = Array::shared(self.file, self.start + self.at, n)?;
        self.at = padded;
        Some(array)
    }

    fn texts(&mut self, head: &mut FieldReader<'_>) -> Option<Vec<String>> {
        let offsets: Array<u64> = self.array(head)?;
        let joined: Array<u8> = self.array(head)?;
        offsets
            .windows(2)
            .map(|w| {
                let part = joined.get(usize::try_from(w[0]).ok()?..usize::try_from(w[1]).ok()?)?;
                String::from_utf8(part.to_vec()).ok()
            })
            .collect()
    }
}

fn read_contents(head: &mut FieldReader<'_>, data: &mut DataReader<'_>) -> Option<Store> {
    let mut tables = Vec::new();
    for _ in 0..head.count()? {
        tables.push(read_table(head, data)?);
    }
    let mut links = Vec::new();
    for _ in 0..head.count()? {
        let relationship = head.str()?;
        let child = usize::try_from(head.u64()?).ok()?;
        let parent = usize::try_from(head.u64()?).ok()?;
        let parents = usize::try_from(head.u64()?).ok()?;
        let parent_of: Array<u32> = data.array(head)?;
        let (child_table, parent_table) = (tables.get(child)?, tables.get(parent)?);
        let fits = parent_table.keys.is_some()
            && parents == parent_table.rows
            && parent_of.len() == child_table.rows
            && parent_of
                .iter()
                .all(|&p| p == NONE || (p as usize) < parents);
        if !fits {
            return None;
        }
        links.push(LinkIndex::with_parents(
            &relationship,
            child,
            parent,
            parent_of,
            parents,
        ));
    }
    Some(Store { tables, links })
}

fn read_table(head: &mut FieldReader<'_>, data: &mut DataReader<'_>) -> Option<Table> {
    let entity = head.str()?;
    let key_field = head.str()?;
    let rows = usize::try_from(head.u64()?).ok()?;
    if rows >= u32::MAX as usize {
        return None;
    }
    let keys = match head.u8()? {
        0 => None,
        1 => Some(KeyIndex::from_sorted(data.array(head)?)?),
        _ => return None,
    };
    if keys.as_ref().is_some_and(|k| k.keys().len() != rows) {
        return None;
    }
    let mut columns = Vec::new();
    for _ in 0..head.count()? {
        let name = head.str()?;
        let valid = match head.u8()? {
            0 => None,
            1 => Some(Bitmap::from_words(data.array(head)?.into_vec(), rows)?),
            _ => return None,
        };
        let column = Column {
            data: read_values(head, data, rows)?,
            valid,
        };
        if column.len() != rows {
            return None;
        }
        columns.push((name, column));
    }
    Some(Table {
        entity,
        key_field,
        rows,
        keys,
        columns,
        resolved: Vec::new(),
    })
}

/// An integer column's width tag, then its array.
fn add_ints<'s>(head: &mut Fields, arrays: &mut Arrays<'s>, ints: &'s Ints) {
    match ints {
        Ints::I8(v) => {
            head.u8(I8);
            arrays.add(head, v);
        }
        Ints::I16(v) => {
            head.u8(I16);
            arrays.add(head, v);
        }
        Ints::I32(v) => {
            head.u8(I32);
            arrays.add(head, v);
        }
        Ints::I64(v) => {
            head.u8(I64);
            arrays.add(head, v);
        }
    }
}

/// The integer array of width `tag` ([`add_ints`]); `None` for another tag.
fn read_ints(tag: u8, head: &mut FieldReader<'_>, data: &mut DataReader<'_>) -> Option<Ints> {
    Some(match tag {
        I8 => Ints::I8(data.array(head)?),
        I16 => Ints::I16(data.array(head)?),
        I32 => Ints::I32(data.array(head)?),
        I64 => Ints::I64(data.array(head)?),
        _ => return None,
    })
}

fn read_values(
    head: &mut FieldReader<'_>,
    data: &mut DataReader<'_>,
    rows: usize,
) -> Option<ColumnData> {
    Some(match head.u8()? {
        UUID => ColumnData::Uuid(data.array(head)?),
        tag @ (I8 | I16 | I32 | I64) => ColumnData::Int(read_ints(tag, head, data)?),
        DECIMAL => ColumnData::Decimal(data.array(head)?),
        BOOL => ColumnData::Bool(Bitmap::from_words(data.array(head)?.into_vec(), rows)?),
        DATE => ColumnData::Date(data.array(head)?),
        DATETIME => {
            let base = head.u64()? as i64;
            let tag = head.u8()?;
            ColumnData::DateTime(Seconds {
                base,
                offsets: read_ints(tag, head, data)?,
            })
        }
        TEXT_DICT => {
            let codes: Array<u32> = data.array(head)?;
            let values = data.texts(head)?;
            // The evaluator looks values up by binary search and codes up
            // by index: sorted, distinct, every code in range.
            let sorted = values.windows(2).all(|w| w[0] < w[1]);
            if !sorted || codes.iter().any(|&c| c as usize >= values.len()) {
                return None;
            }
            ColumnData::Text(Text::Dict { codes, values })
        }
        TEXT_PLAIN => {
            let offsets: Array<usize> = data.array(head)?;
            let bytes: Array<u8> = data.array(head)?;
            let text = std::str::from_utf8(&bytes).ok()?;
            let well_formed = offsets.first() == Some(&0)
                && offsets.last() == Some(&bytes.len())
                && offsets.windows(2).all(|w| w[0] <= w[1])
                && offsets.iter().all(|&o| text.is_char_boundary(o));
            if !well_formed {
                return None;
            }
            ColumnData::Text(Text::Plain {
                offsets,
                bytes,
                folded: Default::default(),
            })
        }
        _ => return None,
    })
}
