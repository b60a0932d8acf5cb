//! Sortable lists: `?sort=key` sorts ascending, `?sort=-key` descending,
//! and the column headers are links that choose the order (no JavaScript).
//! A column sorts first in its natural direction (names A→Z, dates newest
//! first); its header link turns the order around when it is the current one.

/// An order of a list: one of its keys, and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: &'static str,
    pub desc: bool,
}

/// The keys a list sorts by, each with its natural direction (`true`:
/// descending first), and the default order.
pub struct Spec {
    pub keys: &'static [(&'static str, bool)],
    pub default: Sort,
}

impl Spec {
    /// The order a query string asks for; anything unknown is the default.
    pub fn parse(&self, raw: Option<&str>) -> Sort {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return self.default;
        };
        let (name, desc) = match raw.strip_prefix('-') {
            Some(n) => (n, true),
            None => (raw, false),
        };
        self.keys
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(key, _)| Sort { key, desc })
            .unwrap_or(self.default)
    }

    fn natural(&self, key: &str) -> bool {
        self.keys
            .iter()
            .find(|(k, _)| *k == key)
            .is_some_and(|(_, d)| *d)
    }

    /// The `sort` value of a query string: empty for the default order.
    pub fn param(&self, s: Sort) -> String {
        if s == self.default {
            String::new()
        } else if s.desc {
            format!("-{}", s.key)
        } else {
            s.key.to_string()
        }
    }

    /// The header cells of a table: sortable columns link to their order
    /// (keeping the filters in `pairs`, starting again at the first page).
    pub fn heads(
        &self,
        base: &str,
        pairs: &[(&str, &str)],
        current: Sort,
        columns: &[(&'static str, Option<&'static str>)],
    ) -> Vec<Head> {
        columns
            .iter()
            .map(|(label, key)| match key {
                None => Head {
                    label,
                    href: None,
                    arrow: "",
                    aria: "",
                },
                Some(key) => {
                    let active = current.key == *key;
                    let next = Sort {
                        key,
                        desc: if active {
                            !current.desc
                        } else {
                            self.natural(key)
                        },
                    };
                    let param = self.param(next);
                    let mut all: Vec<(&str, &str)> = pairs.to_vec();
                    all.push(("sort", &param));
                    Head {
                        label,
                        href: Some(link(base, &all)),
                        arrow: match (active, current.desc) {
                            (false, _) => "",
                            (true, false) => "▲",
                            (true, true) => "▼",
                        },
                        aria: match (active, current.desc) {
                            (false, _) => "",
                            (true, false) => "ascending",
                            (true, true) => "descending",
                        },
                    }
                }
            })
            .collect()
    }
}

/// `path?k=v&…` from the non-empty pairs, URL-encoded.
pub fn link(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        s.append_pair(k, v);
    }
    match s.finish() {
        q if q.is_empty() => path.to_string(),
        q => format!("{path}?{q}"),
    }
}

/// A column header (`partials/thead.html`).
pub struct Head {
    pub label: &'static str,
    pub href: Option<String>,
    /// ▲ or ▼ on the column the list is sorted by.
    pub arrow: &'static str,
    /// The `aria-sort` value, or empty.
    pub aria: &'static str,
}

/// "1 customer", "2,345 users"; `more` adds a "+" (a count that stopped
/// at its cap).
pub fn count(n: i64, one: &str, many: &str, more: bool) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!(
        "{grouped}{} {}",
        if more { "+" } else { "" },
        if n == 1 && !more { one } else { many }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        keys: &[("name", false), ("joined", true)],
        default: Sort {
            key: "name",
            desc: false,
        },
    };

    #[test]
    fn parses_and_falls_back() {
        assert_eq!(SPEC.parse(None), SPEC.default);
        assert_eq!(
            SPEC.parse(Some("-joined")),
            Sort {
                key: "joined",
                desc: true
            }
        );
        assert_eq!(SPEC.parse(Some("nonsense")), SPEC.default);
        assert_eq!(SPEC.parse(Some("-")), SPEC.default);
    }

    #[test]
    fn headers_toggle_and_keep_filters() {
        let h = SPEC.heads(
            "/x",
            &[("q", "a b"), ("page", "")],
            SPEC.default,
            &[
                ("Name", Some("name")),
                ("Joined", Some("joined")),
                ("Users", None),
            ],
        );
        assert_eq!(h[0].href.as_deref(), Some("/x?q=a+b&sort=-name"));
        assert_eq!(h[0].arrow, "▲");
        assert_eq!(h[0].aria, "ascending");
        assert_eq!(h[1].href.as_deref(), Some("/x?q=a+b&sort=-joined"));
        assert_eq!(h[1].arrow, "");
        assert!(h[2].href.is_none());
        let h = SPEC.heads(
            "/x",
            &[],
            Sort {
                key: "name",
                desc: true,
            },
            &[("Name", Some("name"))],
        );
        assert_eq!(h[0].href.as_deref(), Some("/x"), "back to the default");
    }

    #[test]
    fn counts_read_naturally() {
        assert_eq!(count(1, "user", "users", false), "1 user");
        assert_eq!(count(0, "user", "users", false), "0 users");
        assert_eq!(count(12345, "user", "users", false), "12,345 users");
        assert_eq!(count(10000, "entry", "entries", true), "10,000+ entries");
    }
}
