//! `segql export`: every table of the schema as Parquet files
//! (`docs/export.md`). The work is `segql::export::export`; this reads the
//! arguments, draws the progress bar and prints the report.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use segql::db::Access;
use segql::export::{self, ExportOptions, ExportReport, Format};

use super::args::{ExportArgs, ExportFormat, ReportFormat};
use super::compile::internal;
use super::database;
use super::failure::Failure;
use super::inputs::Workspace;

pub fn export(workspace: &Workspace, args: &ExportArgs) -> Result<(), Failure> {
    let options = ExportOptions {
        format: match args.format {
            ExportFormat::Parquet => Format::Parquet,
        },
        rows_per_group: usize::try_from(args.rows_per_group).unwrap_or(usize::MAX),
    };
    let mut db = database::open(&args.db, Access::ReadOnly)?;
    let mut bar = Bar::new(!workspace.quiet && std::io::stderr().is_terminal());
    let report = export::export(
        db.as_mut(),
        &workspace.schema,
        &args.out,
        &options,
        &mut bar,
    );
    bar.clear();
    let report = report.map_err(|e| workspace.fail(e))?;
    match args.report {
        ReportFormat::Json => {
            let json =
                serde_json::to_string_pretty(&report).map_err(|e| workspace.fail(internal(e)))?;
            println!("{json}");
        }
        ReportFormat::Table => print!("{}", describe(&report)),
    }
    Ok(())
}

/// One line per table, then the total.
fn describe(report: &ExportReport) -> String {
    let mut text = String::new();
    let mut rows = 0;
    let mut bytes = 0;
    for table in &report.tables {
        text.push_str(&format!(
            "{:<16} {:>10} rows  {}\n",
            table.table,
            table.rows,
            table.path.display()
        ));
        rows += table.rows;
        bytes += table.bytes;
    }
    text.push_str(&format!(
        "exported {} tables, {rows} rows, {bytes} bytes of Parquet to {}\n",
        report.tables.len(),
        report.out.display()
    ));
    text
}

/// The progress bar on stderr: rows written of all rows, with the table
/// being written. Absent when stderr is not a terminal or with `--quiet`.
struct Bar(Option<ProgressBar>);

impl Bar {
    fn new(visible: bool) -> Bar {
        Bar(visible.then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{msg:>16} [{bar:30}] {pos}/{len} rows, {elapsed} (eta {eta})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message("counting");
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        }))
    }

    fn clear(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl export::Progress for Bar {
    fn start(&mut self, total_rows: u64) {
        if let Some(bar) = &self.0 {
            bar.set_length(total_rows);
        }
    }

    fn table(&mut self, table: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(table.to_string());
        }
    }

    fn advance(&mut self, rows: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(rows);
        }
    }

    fn finish(&mut self) {
        self.clear();
    }
}
