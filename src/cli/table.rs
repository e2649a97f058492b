//! A plain text table that fits the terminal without breaking what people
//! copy: ids and emails are never cut or wrapped. When the table is too wide,
//! free-text columns are shortened with `…` first, then optional columns are
//! hidden from the right; only if the uncuttable columns alone are wider than
//! the terminal does the table overflow (a long line beats a broken uuid).
//!
//! Columns are separated by two spaces and the header is underlined, so a
//! double-click selects a whole id and no border characters get copied.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// How a column may be fitted into less space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Never shortened: ids, emails, numbers, dates, labels.
    Whole,
    /// Free text, shortened with `…` when space is short.
    Cut,
}

/// One column: its header, how it fits, whether it is right-aligned
/// (numbers), and whether it may be left out when nothing else fits.
#[derive(Clone, Debug)]
pub struct Column {
    pub header: String,
    pub fit: Fit,
    pub right: bool,
    pub optional: bool,
}

/// A cut column keeps at least this many cells of text (or its whole
/// width when narrower): below that a value says nothing.
const MIN_CUT: usize = 6;

const GAP: &str = "  ";

/// The rendered lines, and the headers of the columns hidden to fit.
#[derive(Debug)]
pub struct Rendered {
    pub text: String,
    pub hidden: Vec<String>,
}

/// Renders `rows` (each as long as `columns`) in at most `width` terminal
/// cells when that is possible without cutting a [`Fit::Whole`] column;
/// `None` is unlimited.
pub fn render(columns: &[Column], rows: &[Vec<String>], width: Option<usize>) -> Rendered {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| one_line(cell)).collect())
        .collect();
    let natural: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            rows.iter()
                .filter_map(|row| row.get(i))
                .map(|cell| cell.width())
                .chain([column.header.width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut shown = vec![true; columns.len()];
    let widths = loop {
        let widths = fit(columns, &natural, &shown, width);
        let total = total_width(&widths, &shown);
        if width.is_none_or(|limit| total <= limit) {
            break widths;
        }
        let Some(drop) = (0..columns.len())
            .rev()
            .find(|&i| shown[i] && columns[i].optional)
        else {
            break widths;
        };
        shown[drop] = false;
    };

    let visible: Vec<usize> = (0..columns.len()).filter(|&i| shown[i]).collect();
    let line = |cells: &dyn Fn(usize) -> String| -> String {
        let parts: Vec<String> = visible
            .iter()
            .map(|&i| pad(&cut(&cells(i), widths[i]), widths[i], columns[i].right))
            .collect();
        parts.join(GAP).trim_end().to_string()
    };
    let mut text = line(&|i| columns[i].header.clone());
    text.push('\n');
    text.push_str(&line(&|i| "─".repeat(widths[i])));
    text.push('\n');
    for row in &rows {
        text.push_str(&line(&|i| row.get(i).cloned().unwrap_or_default()));
        text.push('\n');
    }
    let hidden = (0..columns.len())
        .filter(|&i| !shown[i])
        .map(|i| columns[i].header.clone())
        .collect();
    Rendered { text, hidden }
}

/// The widths of the shown columns: natural, or with the cut columns capped
/// at the largest cap that fits `limit` (never below [`MIN_CUT`]).
fn fit(columns: &[Column], natural: &[usize], shown: &[bool], limit: Option<usize>) -> Vec<usize> {
    let capped = |cap: usize| -> Vec<usize> {
        columns
            .iter()
            .zip(natural)
            .map(|(column, &w)| match column.fit {
                Fit::Cut => w.min(cap.max(MIN_CUT)),
                Fit::Whole => w,
            })
            .collect()
    };
    let Some(limit) = limit else {
        return natural.to_vec();
    };
    if total_width(natural, shown) <= limit {
        return natural.to_vec();
    }
    // The total only grows with the cap: find the largest cap that fits.
    let (mut low, mut high) = (0, natural.iter().copied().max().unwrap_or(0));
    while low < high {
        let mid = (low + high).div_ceil(2);
        if total_width(&capped(mid), shown) <= limit {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    capped(low)
}

fn total_width(widths: &[usize], shown: &[bool]) -> usize {
    let visible: Vec<usize> = widths
        .iter()
        .zip(shown)
        .filter(|(_, s)| **s)
        .map(|(w, _)| *w)
        .collect();
    visible.iter().sum::<usize>() + GAP.len() * visible.len().saturating_sub(1)
}

/// Control characters (a newline in a note) would break the rows.
fn one_line(cell: &str) -> String {
    cell.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `text` in at most `width` cells, ending in `…` when shortened.
fn cut(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

fn pad(text: &str, width: usize, right: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(text.width()));
    if right {
        format!("{fill}{text}")
    } else {
        format!("{text}{fill}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(header: &str, fit: Fit, optional: bool) -> Column {
        Column {
            header: header.to_string(),
            fit,
            right: false,
            optional,
        }
    }

    fn rows(cells: &[&[&str]]) -> Vec<Vec<String>> {
        cells
            .iter()
            .map(|row| row.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    const ID: &str = "002a0a55-5755-4e0c-823d-b9ff1c570822";

    #[test]
    fn a_table_that_fits_is_left_alone() {
        let columns = [
            column("id", Fit::Whole, false),
            column("name", Fit::Cut, true),
        ];
        let out = render(&columns, &rows(&[&[ID, "Ann"]]), Some(80));
        assert_eq!(
            out.text,
            format!(
                "id{}  name\n{}  ────\n{ID}  Ann\n",
                " ".repeat(34),
                "─".repeat(36)
            )
        );
        assert!(out.hidden.is_empty());
    }

    #[test]
    fn free_text_is_cut_before_anything_is_hidden() {
        let columns = [
            column("id", Fit::Whole, false),
            column("title", Fit::Cut, true),
            column("email", Fit::Whole, true),
        ];
        let long = "Directrice Générale des Opérations Internationales";
        let out = render(&columns, &rows(&[&[ID, long, "ann@example.com"]]), Some(70));
        assert!(out.hidden.is_empty());
        for line in out.text.lines() {
            assert!(line.width() <= 70, "{line}");
        }
        // 70 = 36 + 2 + 15 + 2 + 15: the title gets exactly what is left.
        assert!(out.text.contains("Directrice Gén…  ann@"), "{}", out.text);
        assert!(out.text.contains("ann@example.com") && out.text.contains(ID));
    }

    #[test]
    fn optional_columns_are_hidden_from_the_right_when_cutting_is_not_enough() {
        let columns = [
            column("id", Fit::Whole, false),
            column("first_name", Fit::Cut, true),
            column("email", Fit::Whole, true),
            column("role", Fit::Whole, false),
        ];
        let data = rows(&[&[
            ID,
            "François",
            "francois.vanderberg1343@litware.example",
            "Employee",
        ]]);
        let out = render(&columns, &data, Some(60));
        assert_eq!(out.hidden, ["email"]);
        assert!(out.text.contains("François    Employee"), "{}", out.text);
    }

    #[test]
    fn whole_columns_overflow_rather_than_break() {
        let columns = [
            column("id", Fit::Whole, false),
            column("owner", Fit::Whole, false),
        ];
        let out = render(&columns, &rows(&[&[ID, ID]]), Some(40));
        assert!(out.text.contains(&format!("{ID}  {ID}")));
    }

    #[test]
    fn wide_characters_count_double_and_control_characters_become_spaces() {
        assert_eq!(cut("日本語テキスト", 7), "日本語…");
        assert_eq!(cut("abc", 3), "abc");
        let columns = [column("note", Fit::Cut, false)];
        let out = render(&columns, &rows(&[&["two\nlines"]]), None);
        assert_eq!(out.text.lines().nth(2), Some("two lines"));
    }

    #[test]
    fn numbers_align_right() {
        let mut score = column("score", Fit::Whole, false);
        score.right = true;
        let out = render(&[score], &rows(&[&["7"], &["1200"]]), None);
        assert_eq!(out.text.lines().nth(2), Some("    7"));
    }
}
