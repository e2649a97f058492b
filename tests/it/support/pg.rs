//! A throwaway PostgreSQL server for tests.
//!
//! `TestPg::start()` gives each caller its own fresh database in a cluster
//! shared by the whole test binary (`tests/it`, whose tests run in parallel
//! threads): `initdb` costs a second or two, so it runs once per binary, and
//! the tests stay isolated by database.
//! The cluster lives in a unique temporary directory and listens only on a
//! Unix socket there, so several test binaries (and several people) can run
//! clusters side by side without port clashes.
//!
//! PostgreSQL refuses to run as root; when the tests run as root, every server
//! command runs as the OS user `postgres` (via `runuser`, else `su`).
//!
//! Rust never drops statics, so the shared cluster is stopped by a small
//! watchdog process: it blocks reading a pipe whose write end only this process
//! holds, and when the test binary exits (normally, by panic or by signal) the
//! pipe closes and the watchdog stops the server and removes the directory.
//! Dropping a `TestPg` drops its database.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The message when no server is installed but CI demands one.
const REQUIRED_UNDER_CI: &str =
    "PostgreSQL server required under CI; install the Debian package postgresql \
     (no initdb/pg_ctl found on PATH or in /usr/lib/postgresql/*/bin)";

/// How long the server may take to accept connections after `pg_ctl start`.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A database of its own in the test binary's PostgreSQL cluster.
pub struct TestPg {
    cluster: Arc<Cluster>,
    dbname: String,
}

/// One running cluster: its directory, socket and the watchdog's pipe.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    run_as_postgres: bool,
    /// Held open for the life of the process; see the module docs.
    _watchdog: Mutex<ChildStdin>,
}

static CLUSTER: OnceLock<Result<Option<Arc<Cluster>>, String>> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

impl TestPg {
    /// A fresh, empty UTF8 database. `None` when no PostgreSQL server is
    /// installed and env `CI` is not `true`; under CI it panics instead, so a
    /// skipped database test can never pass unnoticed. Panics when a server is
    /// installed but cannot be started: that is a broken machine, not a skip.
    pub fn start() -> Option<TestPg> {
        let cluster = shared_cluster()?;
        let n = NEXT_DB.fetch_add(1, Ordering::SeqCst);
        let dbname = format!("test_{}_{n}", std::process::id());
        create_database(&cluster, &dbname);
        Some(TestPg { cluster, dbname })
    }

    /// The name of this handle's database.
    pub fn dbname(&self) -> &str {
        &self.dbname
    }

    /// The directory holding the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.cluster.dir
    }

    /// A new connection to this handle's database.
    pub fn client(&self) -> postgres::Client {
        self.cluster.connect(&self.dbname)
    }

    /// A `postgresql://` URL of this handle's database, for the CLI.
    pub fn url(&self) -> String {
        self.cluster.url(&self.dbname)
    }

    /// The URL of another database of the same cluster.
    pub fn url_for(&self, dbname: &str) -> String {
        self.cluster.url(dbname)
    }

    /// Creates (or re-creates, empty) the database `name` in the same cluster
    /// and connects to it. `name` must be a plain lowercase identifier, and
    /// one no other test uses: every test of the binary shares the cluster.
    pub fn fresh_database(&self, name: &str) -> postgres::Client {
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "fresh_database wants a plain lowercase identifier, got {name:?}"
        );
        let mut admin = self.cluster.connect("postgres");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap_or_else(|e| panic!("cannot drop database {name}: {e}"));
        drop(admin);
        create_database(&self.cluster, name);
        self.cluster.connect(name)
    }
}

impl Drop for TestPg {
    fn drop(&mut self) {
        // Best effort: the whole cluster goes away with the process anyway.
        if let Ok(mut admin) = self.cluster.try_connect("postgres") {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.dbname
            ));
        }
    }
}

fn create_database(cluster: &Cluster, name: &str) {
    let mut admin = cluster.connect("postgres");
    // template0 + C collation: the same byte order as SQLite's BINARY, and
    // independent of which locales the machine has.
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0 \
             LC_COLLATE 'C' LC_CTYPE 'C'"
        ))
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
}

fn shared_cluster() -> Option<Arc<Cluster>> {
    let state = CLUSTER.get_or_init(|| match find_binaries() {
        None => Ok(None),
        Some(bin) => Cluster::start(bin).map(|c| Some(Arc::new(c))),
    });
    match state {
        Ok(Some(cluster)) => Some(Arc::clone(cluster)),
        Ok(None) if std::env::var("CI").as_deref() == Ok("true") => panic!("{REQUIRED_UNDER_CI}"),
        Ok(None) => {
            eprintln!("note: PostgreSQL server not installed; skipping a PostgreSQL test");
            None
        }
        Err(message) => panic!("cannot start a test PostgreSQL cluster: {message}"),
    }
}

/// The directory holding `initdb` and `pg_ctl`: PATH first, then the newest
/// Debian layout `/usr/lib/postgresql/<version>/bin`.
fn find_binaries() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                // Resolve symlinks (Debian links /usr/bin entries to a
                // wrapper) so that pg_ctl finds `postgres` beside it.
                let initdb = std::fs::canonicalize(dir.join("initdb")).ok()?;
                let real = initdb.parent()?.to_path_buf();
                if has_both(&real) {
                    return Some(real);
                }
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    // The effective uid as `id -u` reports it; std has no portable getter.
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command that runs `program` as the OS user `postgres` when we are root.
fn server_command(run_as_postgres: bool, program: &Path) -> Command {
    if !run_as_postgres {
        return Command::new(program);
    }
    if Path::new("/usr/sbin/runuser").exists() || Path::new("/sbin/runuser").exists() {
        let mut cmd = Command::new("runuser");
        cmd.args([OsStr::new("-u"), OsStr::new("postgres"), OsStr::new("--")]);
        cmd.arg(program);
        cmd
    } else {
        // `su -c` takes one shell string; the program and arguments follow
        // as positional parameters, so nothing needs quoting.
        let mut cmd = Command::new("su");
        cmd.args(["postgres", "-s", "/bin/sh", "-c", "exec \"$0\" \"$@\""]);
        cmd.arg(program);
        cmd
    }
}

fn run(mut cmd: Command, what: &str) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl Cluster {
    fn start(bin: PathBuf) -> Result<Cluster, String> {
        let run_as_postgres = running_as_root();
        // The user `postgres` must reach the directory, and a socket path
        // must stay under ~100 bytes: a TMPDIR under /root would fail both.
        let parent = if run_as_postgres && Path::new("/tmp").is_dir() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = tempfile::Builder::new()
            .prefix("segql-pg-")
            .tempdir_in(parent)
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?
            .keep();
        if run_as_postgres {
            let mut chown = Command::new("chown");
            chown.arg("postgres:").arg(&dir);
            run(chown, "chown postgres")?;
        }
        let data = dir.join("data");
        let log = dir.join("server.log");

        // The watchdog first, so that even a failed start is cleaned up.
        let mut sh = server_command(run_as_postgres, Path::new("/bin/sh"));
        sh.args([
            "-c",
            "trap '' INT HUP; read _ignored; \
             \"$1\" -D \"$2\" stop -m immediate -w >/dev/null 2>&1; rm -rf \"$3\"",
            "segql-pg-watchdog",
        ])
        .arg(bin.join("pg_ctl"))
        .arg(&data)
        .arg(&dir)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // Its own process group: a Ctrl-C aimed at the tests must not kill
        // the watchdog before it has cleaned up.
        std::os::unix::process::CommandExt::process_group(&mut sh, 0);
        let mut watchdog = sh
            .spawn()
            .map_err(|e| format!("cannot start the cleanup watchdog: {e}"))?;
        let pipe = watchdog
            .stdin
            .take()
            .ok_or("the cleanup watchdog has no stdin")?;

        let mut initdb = server_command(run_as_postgres, &bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "-A",
                "trust",
                "-N",
            ])
            .current_dir(&dir);
        run(initdb, "initdb")?;

        let options = format!(
            "-k {} -c listen_addresses='' -F -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off",
            dir.display()
        );
        let mut pg_ctl = server_command(run_as_postgres, &bin.join("pg_ctl"));
        pg_ctl
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .current_dir(&dir);
        std::os::unix::process::CommandExt::process_group(&mut pg_ctl, 0);
        run(pg_ctl, "pg_ctl start").map_err(|e| {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            format!("{e}\nserver log:\n{log}")
        })?;

        let cluster = Cluster {
            dir,
            bin,
            run_as_postgres,
            _watchdog: Mutex::new(pipe),
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match cluster.try_connect("postgres") {
                Ok(_) => return Ok(cluster),
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!("server did not accept connections: {e}"))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    fn try_connect(&self, dbname: &str) -> Result<postgres::Client, postgres::Error> {
        let mut config = postgres::Config::new();
        config
            .host_path(&self.dir)
            .user("postgres")
            .dbname(dbname)
            .connect_timeout(Duration::from_secs(10));
        config.connect(postgres::NoTls)
    }

    fn connect(&self, dbname: &str) -> postgres::Client {
        self.try_connect(dbname)
            .unwrap_or_else(|e| panic!("cannot connect to test database {dbname}: {e}"))
    }

    fn url(&self, dbname: &str) -> String {
        format!(
            "postgresql://postgres@/{dbname}?host={}",
            percent_encode(&self.dir.to_string_lossy())
        )
    }
}

/// Percent-encodes everything but unreserved characters and `/`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
