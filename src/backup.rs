//! `ixp-portal backup --to FILE` (issue 14): a consistent copy of the SQLite
//! database while `serve` runs, through SQLite's online backup API
//! (`sqlite3_backup_*` of the same bundled SQLite that diesel uses; diesel
//! 2.3 does not hand out its raw handle, so the copy opens its own two
//! connections). The whole copy is one step: in WAL mode it reads one
//! snapshot and writers go on meanwhile, where a copy in several steps
//! would start again after every write and might never finish under load.
//!
//! The file is made by this command, readable by its user only (0600), never
//! over an existing file, switched to a single file (no `-wal`), and checked
//! by opening it (`PRAGMA integrity_check`, the users counted). On
//! PostgreSQL it says to use `pg_dump`.
use crate::db::DatabaseUrl;
use anyhow::{Context, anyhow, bail};
use libsqlite3_sys as ffi;
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

/// What a backup wrote, checked by reading it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub path: PathBuf,
    pub bytes: u64,
    pub users: i64,
    pub migrations: i64,
}

/// The advice on PostgreSQL, where a consistent copy is `pg_dump`'s job.
pub const POSTGRES_ADVICE: &str = "DATABASE_URL is a PostgreSQL database: back it up with pg_dump, for example \
`pg_dump --format=custom --file=portal-$(date +%F).dump \"$DATABASE_URL\"`, \
and restore with `pg_restore --clean --if-exists --dbname=\"$DATABASE_URL\" FILE` (see the README)";

/// Copies the database of `database` to the new file `to`.
pub fn backup(database: &DatabaseUrl, to: &Path) -> anyhow::Result<Summary> {
    let source = match database {
        DatabaseUrl::Postgres(_) => bail!("{POSTGRES_ADVICE}"),
        DatabaseUrl::Sqlite(p) => p,
    };
    if !source.is_file() {
        bail!(
            "there is no SQLite database at {} (DATABASE_URL or PORTAL_DATA_DIR)",
            source.display()
        );
    }
    if std::fs::symlink_metadata(to).is_ok() {
        bail!(
            "{} exists already: give a new file name (a backup never overwrites a file)",
            to.display()
        );
    }
    create_private(to)?;
    let result = copy(source, to).and_then(|()| verify(to));
    if result.is_err() {
        // Leave no half-made file behind: a retry would be refused.
        let _ = std::fs::remove_file(to);
        for suffix in ["-journal", "-wal", "-shm"] {
            let mut p = to.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    }
    result
}

/// An empty file, 0600, that did not exist before.
fn create_private(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot make {} private", path.display()))?;
    Ok(())
}

/// An open raw connection, closed when dropped.
struct Raw(*mut ffi::sqlite3);

impl Raw {
    fn open(path: &Path) -> anyhow::Result<Raw> {
        use std::os::unix::ffi::OsStrExt;
        let c_path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| anyhow!("{} contains a NUL byte", path.display()))?;
        let mut db = std::ptr::null_mut();
        // SAFETY: `c_path` is a valid C string; `db` receives a handle that
        // `Raw` owns and closes (also when opening failed, as SQLite asks).
        let rc = unsafe {
            ffi::sqlite3_open_v2(
                c_path.as_ptr(),
                &mut db,
                ffi::SQLITE_OPEN_READWRITE,
                std::ptr::null(),
            )
        };
        let raw = Raw(db);
        if rc != ffi::SQLITE_OK {
            bail!("cannot open {}: {}", path.display(), raw.error());
        }
        // SAFETY: `raw.0` is an open connection.
        unsafe { ffi::sqlite3_busy_timeout(raw.0, 15_000) };
        Ok(raw)
    }

    fn error(&self) -> String {
        if self.0.is_null() {
            return "out of memory".into();
        }
        // SAFETY: `self.0` is a connection; SQLite returns a C string it owns.
        unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.0)) }
            .to_string_lossy()
            .into_owned()
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: closing a handle from `sqlite3_open_v2` (or null) once.
        unsafe { ffi::sqlite3_close(self.0) };
    }
}

/// The online backup, in one step, retried while the source is busy.
fn copy(source: &Path, to: &Path) -> anyhow::Result<()> {
    let src = Raw::open(source)?;
    let dst = Raw::open(to)?;
    let main = c"main";
    // SAFETY: both connections are open and outlive the backup object,
    // which is finished before they are dropped.
    let backup = unsafe { ffi::sqlite3_backup_init(dst.0, main.as_ptr(), src.0, main.as_ptr()) };
    if backup.is_null() {
        bail!("cannot start the backup: {}", dst.error());
    }
    let started = std::time::Instant::now();
    let step = loop {
        // SAFETY: `backup` is live until `sqlite3_backup_finish` below.
        let rc = unsafe { ffi::sqlite3_backup_step(backup, -1) };
        match rc {
            ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED
                if started.elapsed() < std::time::Duration::from_secs(120) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            rc => break rc,
        }
    };
    // SAFETY: finishes (and frees) the backup object exactly once.
    let finish = unsafe { ffi::sqlite3_backup_finish(backup) };
    if step != ffi::SQLITE_DONE || finish != ffi::SQLITE_OK {
        bail!(
            "the backup of {} failed: {} (code {step})",
            source.display(),
            dst.error()
        );
    }
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Opens the copy as the portal would, makes it one file, and checks it.
fn verify(path: &Path) -> anyhow::Result<Summary> {
    use diesel::{Connection, RunQueryDsl, SqliteConnection, sql_query};
    let mut c = SqliteConnection::establish(&path.to_string_lossy())
        .with_context(|| format!("the backup {} does not open", path.display()))?;
    diesel::connection::SimpleConnection::batch_execute(&mut c, "PRAGMA journal_mode = DELETE")
        .context("the backup does not open as a database")?;
    let check: Vec<Text> = sql_query("SELECT integrity_check AS value FROM pragma_integrity_check")
        .load(&mut c)
        .context("checking the backup")?;
    let verdict: Vec<&str> = check.iter().map(|t| t.value.as_str()).collect();
    if verdict != ["ok"] {
        bail!("the backup is damaged: {}", verdict.join("; "));
    }
    let users = sql_query("SELECT COUNT(*) AS n FROM users")
        .get_result::<Count>(&mut c)
        .context("the backup has no users table: is the source an ixp-portal database?")?
        .n;
    let migrations = sql_query("SELECT COUNT(*) AS n FROM __diesel_schema_migrations")
        .get_result::<Count>(&mut c)
        .map(|c| c.n)
        .unwrap_or(0);
    drop(c);
    let bytes = std::fs::metadata(path)?.len();
    Ok(Summary {
        path: path.to_path_buf(),
        bytes,
        users,
        migrations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn backs_up_verifies_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("portal.sqlite");
        let url = DatabaseUrl::Sqlite(src.clone());
        let db = crate::db::Db::open(&url).unwrap();
        db.migrate().unwrap();
        drop(db);
        let to = dir.path().join("copy.sqlite");
        let s = backup(&url, &to).unwrap();
        assert_eq!(s.users, 0);
        assert!(s.migrations > 0);
        let mode = std::fs::metadata(&to).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!dir.path().join("copy.sqlite-wal").exists());
        let e = backup(&url, &to).unwrap_err().to_string();
        assert!(e.contains("exists already"), "{e}");
        let e = backup(
            &DatabaseUrl::Sqlite(dir.path().join("none.sqlite")),
            &dir.path().join("x"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("no SQLite database"), "{e}");
        assert!(!dir.path().join("x").exists());
        let e = backup(
            &DatabaseUrl::Postgres("postgres://h/db".into()),
            &dir.path().join("y"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("pg_dump"), "{e}");
    }

    #[test]
    fn a_file_that_is_not_a_database_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("junk.sqlite");
        std::fs::write(&src, b"this is not a database, but long enough to look like a header......................................................").unwrap();
        let to = dir.path().join("copy.sqlite");
        assert!(backup(&DatabaseUrl::Sqlite(src), &to).is_err());
        assert!(!to.exists());
    }
}
