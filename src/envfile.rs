//! `.env`: read from the working directory only (never a parent's), and a
//! malformed one stops start-up, naming the line (SPEC §4).
use crate::config::ConfigError;
use std::path::Path;

/// Loads `dir/.env` into the environment (a variable already set wins);
/// no file is fine. Nothing is loaded from a malformed file.
pub fn load(dir: &Path) -> Result<(), ConfigError> {
    let path = dir.join(".env");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(problem(format!("cannot be read: {e}"))),
    };
    check(&text)?;
    dotenvy::from_path(&path)
        .map_err(|e| problem(format!("cannot be loaded: {}", describe(&text, &e))))
}

/// Every line of `text` parses as `NAME=value` (or is blank or a comment).
pub fn check(text: &str) -> Result<(), ConfigError> {
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        if let Err(e) = item {
            return Err(problem(describe(text, &e)));
        }
    }
    Ok(())
}

/// What is wrong, by line number, never quoting the line (it may hold a
/// secret).
fn describe(text: &str, e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::LineParse(line, at) => {
            let first = line.lines().next().unwrap_or_default();
            let number = text
                .lines()
                .position(|l| !first.is_empty() && l.trim_end() == first.trim_end())
                .map_or_else(|| "a line".to_string(), |i| format!("line {}", i + 1));
            format!(
                "{number} is malformed (at character {}): write NAME=value",
                at + 1
            )
        }
        other => other.to_string(),
    }
}

fn problem(p: String) -> ConfigError {
    ConfigError {
        var: ".env",
        problem: p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_line_is_named_by_number_without_its_value() {
        let e = check("# settings\nAPP_URL=https://ix.example\n\nSESSION_KEY secret-value\n")
            .unwrap_err();
        assert_eq!(e.var, ".env");
        assert!(e.problem.contains("line 4"), "{}", e.problem);
        assert!(!e.problem.contains("secret-value"), "{}", e.problem);
    }

    #[test]
    fn a_well_formed_file_passes() {
        assert!(check("# c\nA=1\nexport B=\"two words\"\n\n").is_ok());
    }
}
