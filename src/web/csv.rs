//! CSV exports of the staff lists (the `csv` crate writes them; RFC 4180
//! quoting, a header row, UTF-8).
use actix_web::HttpResponse;
use actix_web::http::header;

/// A cell as a spreadsheet may take it: text that starts like a formula
/// (`=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`,
/// so that a name sent by PeeringDB cannot run as a formula (CSV
/// injection). Numbers are written as they are.
pub fn cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// The CSV text of a header and rows.
pub fn write(headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(headers)?;
    for r in rows {
        w.write_record(r)?;
    }
    w.into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

/// A download: `name-YYYY-MM-DD.csv`, never cached.
pub fn download(name: &str, body: Vec<u8>) -> HttpResponse {
    let file = format!("{name}-{}.csv", crate::db::models::today());
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_quoting_is_rfc4180() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("Acme"), "Acme");
        let out = write(&["a", "b"], &[vec!["x, y".into(), "say \"hi\"".into()]]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a,b\n\"x, y\",\"say \"\"hi\"\"\"\n"
        );
    }
}
