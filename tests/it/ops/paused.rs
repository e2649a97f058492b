//! The `segql` binary run as a child process, optionally held at one of its
//! test-only pause points inside the transaction (`SEGQL_TEST_PAUSE`, see
//! `src/db/pause.rs`): the kill and concurrency tests start a data-changing
//! command, know for certain when it is inside its transaction, and then
//! kill it or let it go on.
//!
//! The commands: `link-orphans`, an `update`, `score` with the example
//! models by either engine, `import-leads` of a file, and `refresh` of the
//! example library by either engine.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The reference time every run uses, so reruns give the same data.
pub const NOW: &str = "2025-06-01T12:00:00Z";

/// How long a child may take to reach its pause point.
const REACH_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a run is held (the values of `SEGQL_TEST_PAUSE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Point {
    AfterFirstWrite,
    BeforeCommit,
}

impl Point {
    pub fn name(self) -> &'static str {
        match self {
            Point::AfterFirstWrite => "after_first_write",
            Point::BeforeCommit => "before_commit",
        }
    }

    /// The two points in turn: even runs after the first write, odd ones
    /// before the commit.
    pub fn alternate(run: usize) -> Point {
        if run.is_multiple_of(2) {
            Point::AfterFirstWrite
        } else {
            Point::BeforeCommit
        }
    }
}

/// A data-changing command: its arguments after `--db SPEC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    LinkOrphans,
    /// `update --set marketing_only=false 'contact where marketing_only'`.
    ClearMarketingOnly,
    /// `update --set do_not_email=true 'contact where role = "Decision
    /// Maker"'`: data the example models read (`subtract 30 if
    /// contact.do_not_email`).
    DoNotEmailDecisionMakers,
    /// `score --models examples/scoring.segql` by the database's SQL.
    Score,
    /// The same with `--engine memory`.
    ScoreMemory,
    /// `import-leads` of the CSV file at this path.
    ImportLeads(&'static str),
    /// `refresh --library examples/refresh-library.segql` by the database's SQL.
    Refresh,
    /// The same with `--engine memory`.
    RefreshMemory,
}

/// The example library of ten segments, which make sense for the demo data.
pub fn example_library() -> String {
    format!(
        "{}/examples/refresh-library.segql",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The example scoring models, which make sense for the demo data.
pub fn example_models() -> String {
    format!("{}/examples/scoring.segql", env!("CARGO_MANIFEST_DIR"))
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::LinkOrphans => "link-orphans",
            Op::ClearMarketingOnly => "update",
            Op::DoNotEmailDecisionMakers => "update do_not_email",
            Op::Score => "score",
            Op::ScoreMemory => "score --engine memory",
            Op::ImportLeads(_) => "import-leads",
            Op::Refresh => "refresh",
            Op::RefreshMemory => "refresh --engine memory",
        }
    }

    fn command(self, db: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_segql"));
        match self {
            Op::LinkOrphans => command.args(["link-orphans", "--db", db, "--now", NOW]),
            Op::ClearMarketingOnly => command.args([
                "update",
                "--db",
                db,
                "--now",
                NOW,
                "--set",
                "marketing_only=false",
                "contact where marketing_only",
            ]),
            Op::DoNotEmailDecisionMakers => command.args([
                "update",
                "--db",
                db,
                "--now",
                NOW,
                "--set",
                "do_not_email=true",
                "contact where role = \"Decision Maker\" and not do_not_email",
            ]),
            Op::ImportLeads(csv) => command.args(["import-leads", "--db", db, "--now", NOW, csv]),
            Op::Refresh | Op::RefreshMemory => {
                command.args([
                    "refresh",
                    "--db",
                    db,
                    "--now",
                    NOW,
                    "--library",
                    &example_library(),
                ]);
                if self == Op::RefreshMemory {
                    command.args(["--engine", "memory"]);
                }
                &mut command
            }
            Op::Score | Op::ScoreMemory => {
                command.args([
                    "score",
                    "--db",
                    db,
                    "--now",
                    NOW,
                    "--models",
                    &example_models(),
                ]);
                if self == Op::ScoreMemory {
                    command.args(["--engine", "memory"]);
                }
                &mut command
            }
        };
        command
            .env_remove("SEGQL_TEST_PAUSE")
            .env_remove("SEGQL_TEST_PAUSE_FILE");
        command
    }

    /// Runs the command to its end, unpaused.
    pub fn run(self, db: &str) -> Output {
        self.command(db).output().expect("run segql")
    }

    /// Runs the command to its end and panics unless it succeeds; its
    /// standard output.
    pub fn run_ok(self, db: &str) -> String {
        let out = self.run(db);
        assert!(
            out.status.success(),
            "segql {} failed ({}): {}",
            self.name(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Starts the command without waiting for it.
    pub fn spawn(self, db: &str) -> Child {
        self.command(db)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn segql")
    }

    /// Starts the command held at `point`, and returns once it is there:
    /// inside its transaction, locks held. Panics (with the child's error
    /// output) when the child ends or takes too long instead: a run that
    /// never reached the point proves nothing.
    pub fn start_paused(self, db: &str, point: Point, signal: &Path) -> Paused {
        let _ = std::fs::remove_file(signal);
        let mut child = self
            .command(db)
            .env("SEGQL_TEST_PAUSE", point.name())
            .env("SEGQL_TEST_PAUSE_FILE", signal)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn segql");
        let started = Instant::now();
        while !signal.exists() {
            if let Some(status) = child.try_wait().expect("child status") {
                let out = child.wait_with_output().expect("child output");
                panic!(
                    "segql {} ended ({status}) before reaching {}: {}",
                    self.name(),
                    point.name(),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            if started.elapsed() > REACH_TIMEOUT {
                let _ = child.kill();
                panic!(
                    "segql {} did not reach {} within {REACH_TIMEOUT:?}",
                    self.name(),
                    point.name()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Paused {
            child,
            signal: signal.to_path_buf(),
        }
    }
}

/// A child process held at a pause point.
pub struct Paused {
    child: Child,
    signal: PathBuf,
}

impl Paused {
    /// Whether the child is still running (it should be: it is held).
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("child status").is_none()
    }

    /// SIGKILLs the child and reaps it.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        let status = self.child.wait().expect("reap");
        assert!(!status.success(), "a killed child reported success");
        let _ = std::fs::remove_file(&self.signal);
    }

    /// Lets the child go on; its output once it has ended.
    pub fn resume(self) -> Output {
        std::fs::remove_file(&self.signal).expect("remove the signal file");
        self.child.wait_with_output().expect("child output")
    }
}

/// Waits for a spawned child and returns its output.
pub fn finish(child: Child) -> Output {
    child.wait_with_output().expect("child output")
}

/// The standard error of a run, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
