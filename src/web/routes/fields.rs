//! Form helpers shared by the staff and member pages: field errors shown
//! next to their fields, and parsers from typed strings to domain values.
use super::super::error::AppError;
use crate::admin::AdminError;
use chrono::NaiveDate;

/// The errors of a form, by field name, in the order found.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }
    /// The first error of a field, for the template.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// `class="invalid"` for a field with an error (the template adds it).
    pub fn class(&self, field: &str) -> &'static str {
        if self.get(field).is_some() {
            "invalid"
        } else {
            ""
        }
    }
}

/// An admin error that belongs next to a field, or else the request's error.
pub fn from_admin(e: AdminError) -> Result<FieldErrors, AppError> {
    match e {
        AdminError::Field { field, message } => {
            let mut errors = FieldErrors::default();
            errors.add(field, sentence(&message));
            Ok(errors)
        }
        other => Err(admin_error(other)),
    }
}

/// The request's error for an admin error.
pub fn admin_error(e: AdminError) -> AppError {
    match e {
        AdminError::NotFound(_) => AppError::NotFound,
        AdminError::Refused(_) => AppError::Forbidden,
        AdminError::Field { message, .. } => AppError::BadRequest(sentence(&message)),
        other => AppError::internal(other),
    }
}

/// A message as a sentence: capital first letter, one final full stop.
pub fn sentence(s: &str) -> String {
    let s = s.trim().trim_end_matches('.');
    let mut c = s.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

/// A person's or network's name: 1 to 255 characters after trimming.
pub fn name(errors: &mut FieldErrors, field: &'static str, value: &str) -> Option<String> {
    let t = value.trim();
    if t.is_empty() {
        errors.add(field, "This field is required.");
        None
    } else if t.chars().count() > 255 || t.chars().any(char::is_control) {
        errors.add(
            field,
            "Use at most 255 characters, without control characters.",
        );
        None
    } else {
        Some(t.to_string())
    }
}

/// An optional date in the `YYYY-MM-DD` form of `<input type="date">`.
pub fn optional_date(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
) -> Option<Option<NaiveDate>> {
    let t = value.trim();
    if t.is_empty() {
        return Some(None);
    }
    match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        Ok(d) => Some(Some(d)),
        Err(_) => {
            errors.add(field, "Use a date like 2024-05-31, or leave it empty.");
            None
        }
    }
}

/// A checkbox: present (with any value) means checked.
pub fn checked(value: &Option<String>) -> bool {
    value.is_some()
}

/// A query-string value, trimmed, without control characters (PostgreSQL
/// refuses NUL in text), at most 255 characters; empty means absent.
pub fn non_empty(value: &Option<String>) -> Option<String> {
    let s: String = value
        .as_deref()?
        .chars()
        .filter(|c| !c.is_control())
        .take(255)
        .collect();
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Builds `path?k=v&…` from the non-empty pairs, URL-encoded.
pub fn link(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        s.append_pair(k, v);
    }
    let q = s.finish();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{q}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_by_field() {
        let mut e = FieldErrors::default();
        assert!(e.is_empty());
        e.add("asn", "bad");
        assert_eq!(e.get("asn"), Some("bad"));
        assert_eq!(e.get("name"), None);
        assert_eq!(e.class("asn"), "invalid");
    }

    #[test]
    fn parsers() {
        let mut e = FieldErrors::default();
        assert_eq!(name(&mut e, "n", "  Acme  "), Some("Acme".into()));
        assert_eq!(name(&mut e, "n", "  "), None);
        assert_eq!(optional_date(&mut e, "d", ""), Some(None));
        assert!(optional_date(&mut e, "d", "2024-02-30").is_none());
        assert_eq!(link("/x", &[("q", "a b&c"), ("oauth", "")]), "/x?q=a+b%26c");
        assert_eq!(link("/x", &[]), "/x");
        assert_eq!(non_empty(&Some(" a\0b ".into())), Some("ab".into()));
        assert_eq!(non_empty(&Some("\u{0}".into())), None);
        assert_eq!(non_empty(&None), None);
        assert_eq!(sentence("the name is taken"), "The name is taken.");
        assert_eq!(sentence("Done."), "Done.");
    }
}
