//! Issue 5: the key journeys in real headless Chromium (through chromedriver),
//! clicking real buttons. Runs when Chromium and chromedriver are installed;
//! with PORTAL_REQUIRE_BROWSER=1 (CI) a missing browser is a failure.
//! Screenshots of each key page go to target/screenshots/.
use crate::common::{Backend, Opts, TestApp, profile, spawn_with};
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn which(cmd: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| std::path::Path::new(d).join(cmd))
        .find(|p| p.is_file())
}

async fn browser() -> Option<(Driver, Client, tempfile::TempDir)> {
    let required = std::env::var("PORTAL_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let (Some(chromium), Some(driver)) = (which("chromium"), which("chromedriver")) else {
        assert!(
            !required,
            "PORTAL_REQUIRE_BROWSER=1 but chromium or chromedriver is not installed"
        );
        eprintln!(
            "skipped: chromium and chromedriver are not installed, so the browser tests did not run"
        );
        return None;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    let profile_dir = tempfile::tempdir().unwrap();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,900",
                     format!("--user-data-dir={}", profile_dir.path().display())]
        }
    });
    let caps = caps.as_object().unwrap().clone();
    let mut last = None;
    for _ in 0..50 {
        match ClientBuilder::rustls()
            .expect("tls")
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return Some((driver, c, profile_dir)),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("cannot drive chromium: {last:?}");
}

async fn shot(c: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
}

async fn fill(c: &Client, css: &str, value: &str) {
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css} on the page"));
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

/// Clicks something that loads a new page, and waits until it has.
async fn click(c: &Client, css: &str) {
    let old = c.find(Locator::Css("html")).await.unwrap();
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css} on the page"))
        .click()
        .await
        .unwrap();
    wait_for_new_page(c, old).await;
}

async fn wait_for_new_page(c: &Client, old: fantoccini::elements::Element) {
    for _ in 0..200 {
        if old.tag_name().await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    c.wait().for_element(Locator::Css("body")).await.unwrap();
}

async fn select(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

async fn text(c: &Client) -> String {
    for _ in 0..40 {
        if let Ok(body) = c.find(Locator::Css("body")).await
            && let Ok(t) = body.text().await
        {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page has no readable body")
}

async fn password_login(c: &Client, app: &TestApp, user: &str, pw: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    fill(c, "#username", user).await;
    fill(c, "#password", pw).await;
    click(c, "form[action='/login'] button[type=submit]").await;
}

async fn logout(c: &Client) {
    click(c, "form[action='/logout'] button").await;
}

async fn new_customer(
    c: &Client,
    app: &TestApp,
    name: &str,
    short: &str,
    asn: &str,
    oauth: bool,
) -> String {
    c.goto(&app.url("/staff/customers/new")).await.unwrap();
    fill(c, "#name", name).await;
    fill(c, "#shortname", short).await;
    fill(c, "#asn", asn).await;
    select(c, "#cust_type", "full").await;
    select(c, "#status", "normal").await;
    let checkbox = c.find(Locator::Css("#peeringdb_oauth")).await.unwrap();
    assert_eq!(
        checkbox.prop("checked").await.unwrap().as_deref(),
        Some("true"),
        "checked by default"
    );
    if !oauth {
        checkbox.click().await.unwrap();
    }
    click(c, "main form button[type=submit]").await;
    text(c).await
}

fn reset_link(app: &TestApp) -> String {
    let dir = app.dir.path().join("outbox");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    files.sort();
    let mail = std::fs::read_to_string(files.last().unwrap())
        .unwrap()
        .replace("=\r\n", "")
        .replace("=\n", "");
    let start = mail.find(&format!("{}/password/reset/", app.base)).unwrap();
    mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_journeys() {
    let Some((_driver, c, _profile)) = browser().await else {
        return;
    };
    let opts = Opts {
        profiles: vec![profile(501, "Jane Doe", &[64502, 64500])],
        vars: vec![("AUTH_PEERINGDB_PRIVS", "2".into())],
        ..Opts::default()
    };
    let app = spawn_with(Backend::Sqlite, opts).await.expect("sqlite app");
    app.create_user("staff", "staff password 1", true);

    // Staff signs in and sets up two members, one opted out of PeeringDB login.
    password_login(&c, &app, "staff", "staff password 1").await;
    assert!(text(&c).await.contains("IXP staff"), "staff dashboard");
    shot(&c, "01-staff-dashboard").await;
    let page = new_customer(&c, &app, "Example Networks", "examplenet", "64500", true).await;
    assert!(page.contains("Example Networks"), "{page}");
    let page = new_customer(&c, &app, "Private Telecom", "privtel", "64502", false).await;
    assert!(
        page.contains("OAuth disabled"),
        "the opted-out member shows the badge: {page}"
    );
    shot(&c, "02-customer-opted-out").await;
    c.goto(&app.url("/staff/customers")).await.unwrap();
    shot(&c, "03-customers").await;
    logout(&c).await;

    // A member signs in with PeeringDB through the simulator's page.
    c.goto(&app.url("/login")).await.unwrap();
    shot(&c, "04-login").await;
    click(&c, "a.peeringdb").await;
    assert!(text(&c).await.contains("PeeringDB simulator"));
    click(&c, "#pick-0").await;
    let page = text(&c).await;
    assert!(
        page.contains("Your PeeringDB affiliation with Example Networks has been added."),
        "{page}"
    );
    assert!(page.contains("AS64500"), "the member's dashboard");
    assert!(
        page.contains(
            "Private Telecom (AS64502): not linked: it opted out of Login with PeeringDB."
        ),
        "the opted-out member was not linked, and the page says why: {page}"
    );
    let links = app.with_conn(|conn| {
        let u = ixp_portal::db::users::by_peeringdb_id(conn, 501)
            .unwrap()
            .unwrap();
        ixp_portal::db::affiliations::of_user(conn, u.id).unwrap()
    });
    assert_eq!(links.len(), 1, "linked to Example Networks only");
    shot(&c, "05-member-dashboard").await;

    // The member's admin adds a colleague.
    c.goto(&app.url("/member/users")).await.unwrap();
    fill(&c, "#email", "colleague@example.net").await;
    fill(&c, "#name", "Col League").await;
    click(&c, "form[action='/member/users'] button[type=submit]").await;
    let page = text(&c).await;
    assert!(page.contains("colleague@example.net"), "{page}");
    shot(&c, "06-member-users").await;
    logout(&c).await;

    // Staff see the user with OAuth Y, the link made by PeeringDB, and the audit entry.
    password_login(&c, &app, "staff", "staff password 1").await;
    c.goto(&app.url("/staff/users?oauth=y")).await.unwrap();
    let page = text(&c).await;
    assert!(page.contains("jane.doe"), "{page}");
    assert!(
        !page.contains("colleague"),
        "the colleague was not made by OAuth"
    );
    shot(&c, "07-staff-users-oauth").await;
    let old = c.find(Locator::Css("html")).await.unwrap();
    c.find(Locator::LinkText("jane.doe"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_new_page(&c, old).await;
    let page = text(&c).await;
    assert!(
        page.contains("OAuth-PeeringDB") && page.contains("PeeringDB"),
        "{page}"
    );
    shot(&c, "08-staff-user").await;
    c.goto(&app.url("/staff/audit")).await.unwrap();
    let page = text(&c).await;
    assert!(
        page.contains("opted out"),
        "the skipped opted-out network is in the audit log: {page}"
    );
    shot(&c, "09-audit").await;
    logout(&c).await;

    // Password reset through the mailed link.
    c.goto(&app.url("/password/forgot")).await.unwrap();
    fill(&c, "#who", "jane.doe").await;
    click(&c, "form[action='/password/forgot'] button").await;
    assert!(text(&c).await.contains("If an account matches"));
    c.goto(&reset_link(&app)).await.unwrap();
    shot(&c, "10-reset").await;
    fill(&c, "#password", "jane's new password").await;
    fill(&c, "#confirm", "jane's new password").await;
    click(&c, "main form button[type=submit]").await;
    assert!(text(&c).await.contains("Your password has been set"));
    password_login(&c, &app, "jane.doe", "jane's new password").await;
    assert!(
        text(&c).await.contains("AS64500"),
        "signed in with the new password"
    );
    shot(&c, "11-after-reset").await;
    c.close().await.unwrap();
}

/// Issue 9 (SPEC §6.1, §6.5): a member signed in with PeeringDB in a real
/// browser; staff untick "Allow login via PeeringDB OAuth" for the only
/// network it was linked through; the member's very next page is the login
/// page, and their next PeeringDB login explains why in plain words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_session_ends_when_an_opt_out_deletes_its_user() {
    let Some((_driver, c, _profile)) = browser().await else {
        return;
    };
    let opts = Opts {
        profiles: vec![profile(601, "Olga Optout", &[64600])],
        ..Opts::default()
    };
    let app = spawn_with(Backend::Sqlite, opts).await.expect("sqlite app");
    app.create_user("staff", "staff password 1", true);
    let customer = app.with_conn(|conn| {
        let f = ixp_portal::db::models::CustomerFields {
            name: "Leaving Networks".into(),
            shortname: "leaving".into(),
            autsys: ixp_portal::domain::Asn::new(64600).unwrap(),
            cust_type: ixp_portal::domain::CustomerType::Full,
            status: ixp_portal::domain::CustomerStatus::Normal,
            date_joined: None,
            date_left: None,
            peeringdb_oauth: true,
        };
        let id = ixp_portal::admin::create_customer(conn, "test", &f).unwrap();
        (id, f)
    });
    c.goto(&app.url("/login")).await.unwrap();
    click(&c, "a.peeringdb").await;
    click(&c, "#pick-0").await;
    assert!(text(&c).await.contains("AS64600"), "signed in");
    // Staff opt the member out (the same operation as the customer form).
    let (id, mut f) = customer;
    f.peeringdb_oauth = false;
    let removed =
        app.with_conn(|conn| ixp_portal::admin::update_customer(conn, "staff", id, &f).unwrap());
    assert!(removed.iter().any(|l| l.contains("deleted")), "{removed:?}");
    c.goto(&app.url("/")).await.unwrap();
    assert!(
        c.current_url().await.unwrap().path().starts_with("/login"),
        "the session ended with its user"
    );
    click(&c, "a.peeringdb").await;
    click(&c, "#pick-0").await;
    let page = text(&c).await;
    assert!(
        page.contains(
            "Leaving Networks (AS64600): not linked: it opted out of Login with PeeringDB."
        ),
        "{page}"
    );
    shot(&c, "12-login-explained").await;
    c.close().await.unwrap();
}
