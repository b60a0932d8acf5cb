//! Files and directories the portal creates are its own user's only
//! (SPEC §8): files 0600, directories 0700.
use std::io::Write;
use std::path::Path;

/// Creates `dir` and its missing parents, each new one 0700. Directories
/// that exist already keep their mode (an operator's choice).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes a new file (it must not exist) readable by this user only.
pub fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(content)?;
    f.sync_all()
}

/// Creates an empty file 0600 unless it exists already (an SQLite
/// database before SQLite opens it: its `-wal` and `-shm` files then take
/// the same mode).
pub fn touch_private(path: &Path) -> std::io::Result<()> {
    match write_private(path, b"") {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    }

    #[test]
    fn new_directories_and_files_are_private() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("a/b");
        create_private_dir(&dir).expect("created");
        assert_eq!(mode(&tmp.path().join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        let f = dir.join("f");
        write_private(&f, b"x").expect("written");
        assert_eq!(mode(&f), 0o600);
        assert!(write_private(&f, b"y").is_err(), "never overwrites");
        touch_private(&f).expect("an existing file is left alone");
        assert_eq!(std::fs::read(&f).unwrap_or_default(), b"x");
    }
}
