//! Sharing a load among several connections.
//!
//! SQLite decodes rows on the thread that steps the statement, so reading
//! two tables (or two halves of one) at once on two connections to the same
//! file takes about half the time on two idle cores. The work is shared by
//! this thread (with the caller's connection) and one extra thread per
//! further core (each with its own read-only connection): every table is
//! cut into pieces of about [`PIECE_ROWS`] rows by rowid range; the threads
//! take pieces in turn, tables to be sorted by key first and larger tables
//! first. The thread that reads a table's last piece joins the table's
//! pieces in rowid order (so the rows come in the order one full scan would
//! give) and finishes it (sorts it by key, encodes it) while the others read
//! on. A piece whose foreign keys point at a table already finished has them
//! resolved to parent rows by the thread that read it.
//!
//! Only a plain database file qualifies: a fresh connection must see exactly
//! the tables the caller's does, so none when the caller is inside a
//! transaction (its uncommitted rows), has temporary tables (which shadow
//! stored ones) or attached databases (which could hold the tables).
//! Otherwise, and for a table without a rowid or one SQLite would read from
//! a covering index anyway, the table is read in one piece.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};

use rusqlite::{Connection, OpenFlags};

use super::read::{quote, read_rows};
use super::Job;
use crate::error::{Error, Result};
use crate::eval::builder::TableBuilder;
use crate::eval::store::Table;
use crate::eval::threads;
use crate::schema::Relationship;

/// Rows per piece of a table read in rowid ranges.
#[cfg(not(test))]
const PIECE_ROWS: i64 = 200_000;
/// Small in tests, so that the small test databases are cut too.
#[cfg(test)]
const PIECE_ROWS: i64 = 50;

/// Reads and finishes every job's table, in job order, on up to `readers`
/// connections (`None`: one per core) as far as [`reader_count`] allows. Where both ends of one of `relationships` are read,
/// the child's foreign keys are resolved to parent rows piece by piece once
/// the parent is finished, by the threads that read the pieces.
pub(super) fn read_tables(
    conn: &Connection,
    jobs: &[Job<'_>],
    relationships: &[&Relationship],
    readers: Option<usize>,
) -> Result<Vec<Table>> {
    let allowed = reader_count(conn);
    let readers = readers.map_or(allowed, |n| n.min(allowed));
    let path = conn.path().unwrap_or_default().to_string();
    if readers <= 1 || path.is_empty() {
        return jobs
            .iter()
            .map(|job| {
                let rows = cut(conn, job, 1).iter().map(|(_, rows)| rows).sum();
                read_rows(conn, job, None, rows)?.finish()
            })
            .collect();
    }
    let mut pieces: Vec<Piece> = Vec::new();
    for (job, j) in jobs.iter().zip(0..) {
        pieces.extend(
            cut(conn, job, readers)
                .into_iter()
                .map(|(range, rows)| Piece {
                    job: j,
                    range,
                    rows,
                }),
        );
    }
    // Tables sorted by key first (their finishing, the sort, then overlaps
    // the reading of the rest), larger ones first, pieces in rowid order.
    let totals: Vec<i64> = (0..jobs.len()).map(|j| table_rows(&pieces, j)).collect();
    let mut order: Vec<usize> = (0..pieces.len()).collect();
    order.sort_by_key(|&p| {
        let job = pieces[p].job;
        (!jobs[job].keyed, std::cmp::Reverse(totals[job]), p)
    });
    let links: Vec<Vec<Link>> = jobs
        .iter()
        .map(|job| links_from(job, jobs, relationships))
        .collect();
    let finished: Vec<OnceLock<Result<Table>>> = jobs.iter().map(|_| OnceLock::new()).collect();
    // Resolves what it can of `part`'s foreign keys: those whose parent is
    // finished.
    let resolve = |part: &mut TableBuilder, job: usize| {
        for link in &links[job] {
            if let Some(Ok(Table {
                keys: Some(keys), ..
            })) = finished[link.parent].get()
            {
                part.resolve(link.relationship, link.column, keys);
            }
        }
    };
    let tables: Vec<Mutex<Assembly>> = (0..jobs.len())
        .map(|j| {
            Mutex::new(Assembly {
                parts: Vec::new(),
                left: pieces.iter().filter(|p| p.job == j).count(),
            })
        })
        .collect();
    let open = || open_reader(&path).ok();
    share(conn, readers - 1, open, &order, |c, p| {
        let piece = &pieces[p];
        let mut part = read_rows(c, &jobs[piece.job], piece.range, piece.rows);
        if let Ok(part) = &mut part {
            resolve(part, piece.job);
        }
        let mut assembly = lock(&tables[piece.job]);
        assembly.parts.push((p, part));
        assembly.left -= 1;
        if assembly.left == 0 {
            // The table's last piece: join the pieces in rowid order and
            // finish the table here, while the other threads read on.
            let mut parts = std::mem::take(&mut assembly.parts);
            drop(assembly);
            parts.sort_by_key(|&(p, _)| p);
            let table = parts
                .into_iter()
                .map(|(_, part)| {
                    part.map(|mut part| {
                        // Pieces read before their parent was finished.
                        resolve(&mut part, piece.job);
                        part
                    })
                })
                .collect::<Result<Vec<TableBuilder>>>()
                .and_then(|parts| {
                    TableBuilder::join(parts).ok_or_else(|| Error::Internal {
                        message: "a table was read in no piece".into(),
                    })
                })
                .and_then(TableBuilder::finish);
            // Set once: only the thread that read the last piece gets here.
            let _ = finished[piece.job].set(table);
        }
        Ok(())
    })
    .into_iter()
    .collect::<Result<()>>()?;
    finished
        .into_iter()
        .map(|t| {
            t.into_inner().unwrap_or_else(|| {
                Err(Error::Internal {
                    message: "a table was not finished".into(),
                })
            })
        })
        .collect()
}

/// A table while its pieces come in.
struct Assembly {
    /// The pieces read so far, with their piece numbers (rowid order).
    parts: Vec<(usize, Result<TableBuilder>)>,
    /// Pieces still to come.
    left: usize,
}

/// A relationship whose child is a job's table.
struct Link<'s> {
    relationship: &'s str,
    /// The foreign key's position among the job's fields.
    column: usize,
    /// The parent's job.
    parent: usize,
}

/// The relationships whose child is `job`'s table and whose parent is the
/// table of another of `jobs`.
fn links_from<'s>(
    job: &Job<'_>,
    jobs: &[Job<'_>],
    relationships: &[&'s Relationship],
) -> Vec<Link<'s>> {
    relationships
        .iter()
        .filter(|r| r.child.eq_ignore_ascii_case(&job.entity.name))
        .filter_map(|r| {
            let column = job
                .fields
                .iter()
                .position(|f| f.name.eq_ignore_ascii_case(&r.child_field))?;
            let parent = jobs
                .iter()
                .position(|j| j.entity.name.eq_ignore_ascii_case(&r.parent))?;
            Some(Link {
                relationship: &r.name,
                column,
                parent,
            })
        })
        .collect()
}

/// The lock's contents even if a thread panicked holding it (the panic is
/// passed on when the threads are joined anyway).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A rowid range of one job's table (`None`: the whole table).
struct Piece {
    job: usize,
    range: Option<(i64, i64)>,
    /// Rows expected (rowids spanned), for scheduling.
    rows: i64,
}

fn table_rows(pieces: &[Piece], job: usize) -> i64 {
    pieces.iter().filter(|p| p.job == job).map(|p| p.rows).sum()
}

/// How many connections may read at once: one per thread the engine may
/// use ([`threads::available`]) when a fresh connection to the same file
/// sees the same tables, else one.
pub(super) fn reader_count(conn: &Connection) -> usize {
    let cores = threads::available();
    if cores < 2 || !plain_file(conn) {
        return 1;
    }
    cores
}

/// Whether `conn` sees nothing but the main database of a file, with no
/// transaction open: then what it reads is the file's committed state, as
/// any other connection to the file sees it.
pub(crate) fn plain_file(conn: &Connection) -> bool {
    if !conn.is_autocommit() || conn.path().unwrap_or_default().is_empty() {
        return false;
    }
    let others: i64 = conn
        .query_row(
            "SELECT (SELECT count(*) FROM temp.sqlite_master)
                  + (SELECT count(*) FROM pragma_database_list WHERE name NOT IN ('main', 'temp'))",
            [],
            |row| row.get(0),
        )
        .unwrap_or(1);
    others == 0
}

fn open_reader(path: &str) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

/// Cuts `job`'s table into rowid ranges of about [`PIECE_ROWS`] rows (at most
/// four per reader), each with the rows it spans. One piece when the table
/// has no usable rowid, is small, or would be read from a covering index
/// (then the rows come in index order and ranges would only slow it down).
pub(super) fn cut(
    conn: &Connection,
    job: &Job<'_>,
    readers: usize,
) -> Vec<(Option<(i64, i64)>, i64)> {
    let Some(rowid) = job.rowid else {
        return vec![(None, 0)];
    };
    let table = quote(&job.entity.table);
    // Two sub-queries: SQLite finds a lone min() or max() of the rowid at
    // the b-tree's edge, but scans the table for both in one select.
    let span = conn.query_row(
        &format!("SELECT (SELECT min({rowid}) FROM {table}), (SELECT max({rowid}) FROM {table})"),
        [],
        |row| Ok((row.get::<_, Option<i64>>(0)?, row.get::<_, Option<i64>>(1)?)),
    );
    let Ok((Some(lo), Some(hi))) = span else {
        return vec![(None, 0)];
    };
    // i128: the span of two extreme rowids does not fit an i64.
    let width = hi as i128 - lo as i128 + 1;
    let n = (width / PIECE_ROWS as i128).clamp(1, 4 * readers as i128);
    let rows = width.min(i64::MAX as i128) as i64;
    if n == 1 || covering_index(conn, &job.select()) {
        return vec![(None, rows)];
    }
    (0..n)
        .map(|k| {
            let start = lo as i128 + width * k / n;
            let end = lo as i128 + width * (k + 1) / n - 1;
            (
                Some((start as i64, end as i64)),
                (end - start + 1).min(i64::MAX as i128) as i64,
            )
        })
        .collect()
}

/// Whether SQLite would answer `select` from a covering index.
fn covering_index(conn: &Connection, select: &str) -> bool {
    let Ok(mut stmt) = conn.prepare(&format!("EXPLAIN QUERY PLAN {select}")) else {
        return false;
    };
    let mut covering = false;
    if let Ok(details) = stmt.query_map([], |row| row.get::<_, String>(3)) {
        covering = details
            .flatten()
            .any(|detail| detail.contains("COVERING INDEX"));
    }
    covering
}

/// Runs `work(state, item)` for every item of `order`, on this thread with
/// `here` and on `extra` more threads, each with a state from `open` (a
/// thread whose `open` gives none takes no item). The results come back by
/// item (`order` holds each of `0..order.len()` once).
fn share<S, T: Send>(
    here: &S,
    extra: usize,
    open: impl Fn() -> Option<S> + Sync,
    order: &[usize],
    work: impl Fn(&S, usize) -> Result<T> + Sync,
) -> Vec<Result<T>> {
    let next = AtomicUsize::new(0);
    let (sender, results) = mpsc::channel();
    let run = |state: &S, sender: mpsc::Sender<(usize, Result<T>)>| {
        while let Some(&item) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            // The receiver outlives every thread, so sending cannot fail.
            let _ = sender.send((item, work(state, item)));
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..extra.min(order.len().saturating_sub(1)) {
            let sender = sender.clone();
            let (open, run) = (&open, &run);
            scope.spawn(move || {
                if let Some(state) = open() {
                    run(&state, sender);
                }
            });
        }
        run(here, sender);
    });
    let mut out: Vec<Option<Result<T>>> = order.iter().map(|_| None).collect();
    for (item, result) in results.try_iter() {
        out[item] = Some(result);
    }
    out.into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(Error::Internal {
                    message: "a part of the load was not done".into(),
                })
            })
        })
        .collect()
}
