//! The command line as a process, on SQLite and PostgreSQL.
use crate::both_backends;
use crate::common::{Backend, fresh_postgres};
use std::io::Write;
use std::process::{Command, Output, Stdio};

both_backends!(cli_customers_and_users, cli_errors_name_the_problem);

/// The keys of a user's JSON (SPEC §4), sorted.
const USER_KEYS: [&str; 12] = [
    "affiliations",
    "blocked",
    "creator",
    "disabled",
    "email",
    "id",
    "name",
    "peeringdb_id",
    "sessions",
    "superuser",
    "two_factor",
    "username",
];

fn keys_of(v: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
    keys.sort();
    keys
}

struct Env {
    dir: tempfile::TempDir,
    database_url: String,
    _pg: Option<crate::common::PgDatabase>,
}

fn env(b: Backend) -> Option<Env> {
    let dir = tempfile::tempdir().unwrap();
    let pg = match b {
        Backend::Postgres => Some(fresh_postgres()?),
        Backend::Sqlite => None,
    };
    let database_url = match &pg {
        Some(p) => p.url.clone(),
        None => format!("sqlite:{}", dir.path().join("cli.sqlite").display()),
    };
    Some(Env {
        dir,
        database_url,
        _pg: pg,
    })
}

impl Env {
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ixp-portal"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("DATABASE_URL", &self.database_url)
            .env("PORTAL_DATA_DIR", self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the binary runs");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args, None);
        assert!(
            out.status.success(),
            "{args:?} failed ({:?}): {} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).expect("valid JSON")
    }

    fn fails(&self, args: &[&str], stdin: Option<&str>, mention: &str) {
        let out = self.run(args, stdin);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(mention),
            "{args:?}: stderr {err:?} should mention {mention:?}"
        );
    }
}

async fn cli_customers_and_users(b: Backend) {
    let Some(e) = env(b) else { return };
    assert!(e.ok(&["migrate"]).contains("migration"));
    e.ok(&[
        "customer",
        "create",
        "--name",
        "Example Networks",
        "--shortname",
        "examplenet",
        "--asn",
        "64500",
        "--type",
        "full",
        "--status",
        "normal",
        "--date-joined",
        "2020-01-02",
    ]);
    e.ok(&[
        "customer",
        "create",
        "--name",
        "Example South",
        "--shortname",
        "examplesouth",
        "--asn",
        "64500",
        "--type",
        "probono",
        "--status",
        "normal",
        "--no-peeringdb-oauth",
    ]);
    let list = e.json(&["customer", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let south = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["shortname"] == "examplesouth")
        .unwrap();
    assert_eq!(south["peeringdb_oauth"], false);
    assert_eq!(south["type"], "probono");
    assert_eq!(south["asn"], 64500);

    e.ok(&[
        "customer",
        "update",
        "examplesouth",
        "--peeringdb-oauth",
        "true",
        "--status",
        "suspended",
        "--date-left",
        "2030-01-01",
    ]);
    e.ok(&["customer", "update", "examplesouth", "--date-left", "none"]);
    let list = e.json(&["customer", "list", "--json"]);
    let south = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["shortname"] == "examplesouth")
        .unwrap();
    assert_eq!(south["peeringdb_oauth"], true);
    assert_eq!(south["status"], "suspended");
    assert_eq!(south["date_left"], serde_json::Value::Null);

    let out = e.run(
        &[
            "user",
            "create",
            "--username",
            "noc",
            "--email",
            "noc@ixp.example",
            "--name",
            "NOC Team",
            "--superuser",
            "--password-stdin",
        ],
        Some("a very good password\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("password:"),
        "a given password is not printed"
    );
    let printed = e.ok(&[
        "user",
        "create",
        "--username",
        "member",
        "--email",
        "m@example.net",
        "--name",
        "Mem Ber",
    ]);
    assert!(
        printed.contains("password: "),
        "a generated password is printed once"
    );
    let linked = e.ok(&[
        "user",
        "link",
        "member",
        "--asn",
        "64500",
        "--privilege",
        "custadmin",
    ]);
    assert!(
        linked.contains("examplenet") && linked.contains("examplesouth"),
        "every customer with the ASN: {linked}"
    );

    let u = e.json(&["user", "show", "member", "--json"]);
    assert_eq!(u["username"], "member");
    assert_eq!(u["creator"], "cli");
    assert_eq!(u["peeringdb_id"], serde_json::Value::Null);
    assert_eq!(u["superuser"], false);
    assert_eq!(u["disabled"], false);
    let affs = u["affiliations"].as_array().unwrap();
    assert_eq!(affs.len(), 2);
    // Exactly the keys of SPEC §4: none missing, none extra.
    assert_eq!(keys_of(&u), USER_KEYS);
    for a in affs {
        assert_eq!(
            keys_of(a),
            ["asn", "confirmed_at", "created_by", "customer", "privilege"]
        );
    }
    assert_eq!(u["blocked"], serde_json::json!([]));
    assert!(
        affs.iter().all(|a| a["privilege"] == "custadmin"
            && a["created_by"] == "cli"
            && a["asn"] == 64500)
    );
    let all = e.json(&["user", "list", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|u| keys_of(u) == USER_KEYS)
    );
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "noc" && u["superuser"] == true)
    );
    // The list loads every user's links and extras at once; each entry is
    // what `user show --json` says of that user.
    for name in ["member", "noc"] {
        let shown = e.json(&["user", "show", name, "--json"]);
        let listed = all
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap();
        assert_eq!(
            listed, &shown,
            "user list --json and user show --json of {name}"
        );
    }
    let text = e.ok(&["user", "list"]);
    assert!(text.contains("OAUTH") && text.contains("noc"));
    let member_line = text.lines().find(|l| l.starts_with("member ")).unwrap();
    assert_eq!(
        member_line.split_whitespace().nth(3),
        Some("2"),
        "{member_line}"
    );

    // Each change wrote an audit entry with actor cli.
    let db =
        ixp_portal::db::Db::open(&ixp_portal::db::DatabaseUrl::parse(&e.database_url).unwrap())
            .unwrap();
    let mut c = db.conn().unwrap();
    let entries = ixp_portal::db::audit::page(&mut c, None, None, None, 100).unwrap();
    let actions: Vec<&str> = entries.iter().map(|a| a.action.as_str()).collect();
    for want in [
        "customer.create",
        "customer.update",
        "user.create",
        "affiliation.create",
    ] {
        assert!(actions.contains(&want), "{want} in {actions:?}");
    }
    assert!(entries.iter().all(|a| a.actor == "cli"));
    assert!(
        entries
            .iter()
            .any(|a| a.action == "customer.update"
                && a.details.contains("status normal → suspended")),
        "the update says what changed"
    );

    // The password from stdin works for the web login.
    let hash = ixp_portal::db::users::by_username(&mut c, "noc")
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(ixp_portal::auth::password::verify(
        "a very good password",
        &hash
    ));
}

async fn cli_errors_name_the_problem(b: Backend) {
    let Some(e) = env(b) else { return };
    let base = [
        "customer",
        "create",
        "--name",
        "X",
        "--shortname",
        "x",
        "--type",
        "full",
        "--status",
        "normal",
    ];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        base.iter().copied().chain(extra.iter().copied()).collect()
    };
    e.fails(&with(&["--asn", "0"]), None, "--asn");
    e.fails(&with(&["--asn", "4294967296"]), None, "--asn");
    e.fails(
        &[
            "customer",
            "create",
            "--name",
            "X",
            "--shortname",
            "x",
            "--asn",
            "1",
            "--type",
            "gold",
            "--status",
            "normal",
        ],
        None,
        "--type",
    );
    e.fails(
        &[
            "customer",
            "create",
            "--name",
            "X",
            "--shortname",
            "x",
            "--asn",
            "1",
            "--type",
            "full",
            "--status",
            "asleep",
        ],
        None,
        "--status",
    );
    e.fails(
        &with(&["--asn", "1", "--date-joined", "yesterday"]),
        None,
        "YYYY-MM-DD",
    );
    e.ok(&with(&["--asn", "1"]));
    e.fails(&with(&["--asn", "2"]), None, "already used");
    e.fails(
        &["customer", "update", "nosuch", "--status", "normal"],
        None,
        "nosuch",
    );
    e.fails(
        &[
            "user",
            "create",
            "--username",
            "Bad Name",
            "--email",
            "a@b.c",
            "--name",
            "N",
        ],
        None,
        "--username",
    );
    e.fails(
        &[
            "user",
            "create",
            "--username",
            "ok",
            "--email",
            "nope",
            "--name",
            "N",
        ],
        None,
        "--email",
    );
    e.fails(
        &[
            "user",
            "create",
            "--username",
            "ok",
            "--email",
            "a@b.c",
            "--name",
            "N",
            "--password-stdin",
        ],
        Some("short"),
        "at least 10",
    );
    e.fails(&["user", "show", "ghost"], None, "ghost");
    e.fails(&["user", "link", "ghost", "--asn", "1"], None, "ghost");
    e.ok(&[
        "user",
        "create",
        "--username",
        "ok",
        "--email",
        "a@b.c",
        "--name",
        "N",
    ]);
    e.fails(&["user", "link", "ok", "--asn", "99"], None, "ASN 99");
    e.fails(
        &[
            "user",
            "link",
            "ok",
            "--asn",
            "1",
            "--privilege",
            "superuser",
        ],
        None,
        "--privilege",
    );
    e.fails(
        &[
            "user",
            "create",
            "--username",
            "ok",
            "--email",
            "a@b.c",
            "--name",
            "N",
        ],
        None,
        "taken",
    );
    // A bad configuration names the variable.
    let out = Command::new(env!("CARGO_BIN_EXE_ixp-portal"))
        .args(["customer", "list"])
        .current_dir(e.dir.path())
        .env_clear()
        .env("DATABASE_URL", &e.database_url)
        .env("AUTH_PEERINGDB_ENABLED", "true")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PEERINGDB_OAUTH_CLIENT_ID"));
}
