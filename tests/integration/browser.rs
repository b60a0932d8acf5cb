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
    browser_at(1280, 900).await
}

/// Chromium with a window of this size (390 × 844: a phone).
async fn browser_at(width: u32, height: u32) -> Option<(Driver, Client, tempfile::TempDir)> {
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
    let mut caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", format!("--window-size={},{height}", width.max(500)),
                     format!("--user-data-dir={}", profile_dir.path().display())]
        }
    });
    if width < 500 {
        // A browser window is at least 500 px wide: a phone is emulated
        // (its viewport, the `viewport` meta tag, touch).
        caps["goog:chromeOptions"]["mobileEmulation"] = serde_json::json!({
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0, "mobile": true, "touch": true}
        });
    }
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

/// Issue 13: the page is never wider than the window (tables scroll in
/// their own box). Checked on every page a journey visits.
async fn assert_fits(c: &Client) {
    let v = c
        .execute(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth, window.innerWidth, location.pathname + location.search];",
            vec![],
        )
        .await
        .expect("the page answers scripts from the driver");
    let (scroll, client, window) = (
        v[0].as_i64().unwrap_or(0),
        v[1].as_i64().unwrap_or(0),
        v[2].as_i64().unwrap_or(0),
    );
    if scroll > client {
        shot_only(c, "overflow").await;
        let culprits = c
            .execute(
                "const w = document.documentElement.clientWidth; const out = []; \
                 for (const e of document.querySelectorAll('body *')) { \
                   const t = e.closest('.table-wrap'); \
                   if (t && t !== e && getComputedStyle(e).position !== 'absolute') continue; \
                   const r = e.getBoundingClientRect(); \
                   if (r.right > w + 1) out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.left) + '-' + Math.round(r.right)); } \
                 return out.slice(-8);",
                vec![],
            )
            .await
            .unwrap();
        panic!(
            "{}: the page is {scroll} px wide in a {client} px window; too wide: {culprits}",
            v[3]
        );
    }
    assert!(
        scroll <= client && client <= window,
        "{}: the page is {scroll} px wide in a {window} px window ({client} px without the scroll bar)",
        v[3]
    );
}

/// Goes to a page (and checks that it fits the window).
async fn goto(c: &Client, url: &str) {
    c.goto(url).await.unwrap();
    c.wait().for_element(Locator::Css("body")).await.unwrap();
    assert_fits(c).await;
}

/// A DevTools command through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp(serde_json::Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }
    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        (reqwest::Method::POST, Some(self.0.to_string()))
    }
}

/// A screenshot of the whole page (not only what the window shows),
/// `target/screenshots/NAME-WIDTH.png`.
async fn shot(c: &Client, name: &str) {
    assert_fits(c).await;
    shot_only(c, name).await;
}

async fn shot_only(c: &Client, name: &str) {
    use base64::Engine;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    let _ = std::fs::create_dir_all(&dir);
    let size = c
        .execute(
            "return [window.innerWidth, document.documentElement.scrollHeight];",
            vec![],
        )
        .await
        .unwrap();
    let (width, height) = (size[0].as_u64().unwrap_or(0), size[1].as_u64().unwrap_or(0));
    let answer = c
        .issue_cmd(Cdp(serde_json::json!({
            "cmd": "Page.captureScreenshot",
            "params": {
                "format": "png",
                "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": width, "height": height.min(12000), "scale": 1}
            }
        })))
        .await;
    let png = match answer {
        Ok(v) => v["data"]
            .as_str()
            .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok()),
        Err(_) => c.screenshot().await.ok(),
    };
    if let Some(png) = png {
        let _ = std::fs::write(dir.join(format!("{name}-{width}.png")), png);
    }
}

/// Is the element drawn (`checkVisibility`: not inside a closed menu)?
async fn visible(c: &Client, css: &str) -> bool {
    c.execute(
        "const e = document.querySelector(arguments[0]); return !!e && e.checkVisibility();",
        vec![serde_json::json!(css)],
    )
    .await
    .unwrap()
    .as_bool()
    .unwrap_or(false)
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
    assert_fits(c).await;
}

/// Waits until the page of `old` is gone (the click navigated); a click
/// that never leaves the page fails the test instead of reading the old one.
async fn wait_for_new_page(c: &Client, old: fantoccini::elements::Element) {
    let mut left = false;
    for _ in 0..400 {
        if old.tag_name().await.is_err() {
            left = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(left, "the click led to no new page");
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
    goto(c, &app.url("/login")).await;
    fill(c, "#username", user).await;
    fill(c, "#password", pw).await;
    click(c, "form[action='/login'] button[type=submit]").await;
}

async fn logout(c: &Client) {
    click(c, "header form[action='/logout'] button").await;
}

async fn new_customer(
    c: &Client,
    app: &TestApp,
    name: &str,
    short: &str,
    asn: &str,
    oauth: bool,
) -> String {
    goto(c, &app.url("/staff/customers/new")).await;
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
    let mail = app
        .outbox()
        .pop()
        .unwrap()
        .replace("=\r\n", "")
        .replace("=\n", "");
    let start = mail.find(&format!("{}/password/reset/", app.base)).unwrap();
    mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

/// Issue 13: the journeys on a desktop and on a phone; every page they
/// visit fits the window, and each key page is photographed at both sizes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_journeys() {
    journeys(1280, 900).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_journeys_on_a_phone() {
    journeys(390, 844).await;
}

async fn journeys(width: u32, height: u32) {
    let Some((_driver, c, _profile)) = browser_at(width, height).await else {
        return;
    };
    let opts = Opts {
        profiles: vec![profile(501, "Jane Doe", &[64502, 64500])],
        vars: vec![("AUTH_PEERINGDB_PRIVS", "2".into())],
        ..Opts::default()
    };
    let app = spawn_with(Backend::Sqlite, opts).await.expect("sqlite app");
    app.create_user("staff", "staff password 1", true);

    // A fresh install: staff sign in to a first-run checklist.
    password_login(&c, &app, "staff", "staff password 1").await;
    // (A page with the `viewport` meta tag: the phone's width.)
    let inner = c
        .execute("return window.innerWidth;", vec![])
        .await
        .unwrap();
    assert_eq!(
        inner.as_u64(),
        Some(u64::from(width)),
        "the window is {width} px wide"
    );
    let page = text(&c).await;
    assert!(page.contains("IXP staff"), "staff dashboard");
    assert!(
        // The steps are listed whether done or not; the help text shows
        // only under a step still to do.
        page.contains("Set the IXP record")
            && page.contains("The VLAN and prefixes members connect to"),
        "the first-run checklist, with the LAN still to add: {page}"
    );
    shot(&c, "01-staff-dashboard").await;
    let staff_link = "nav a[href='/staff/customers']";
    if width < 600 {
        // The menu is folded away on a phone, and opens without JavaScript.
        assert!(!visible(&c, staff_link).await, "folded on a phone");
        c.find(Locator::Css("details.menu > summary"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert!(visible(&c, staff_link).await, "opened");
        assert_fits(&c).await;
        shot(&c, "01b-menu-open").await;
    } else {
        assert!(visible(&c, staff_link).await, "always open on a desktop");
    }

    // The IXP record: its name goes into the header and the titles, its
    // support address into the footer.
    goto(&c, &app.url("/staff/peering")).await;
    fill(&c, "#ixp-name", "Example Internet Exchange").await;
    fill(&c, "#ixp-shortname", "EXIX").await;
    fill(&c, "#ixp-country", "NL").await;
    fill(&c, "#ixp-email", "support@exix.example").await;
    click(&c, "form[action='/staff/peering/ixp'] button[type=submit]").await;
    let page = text(&c).await;
    assert!(page.contains("The IXP record is saved."), "{page}");
    let brand = c
        .find(Locator::Css(".brand"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(brand.contains("Example Internet Exchange"), "{brand}");
    assert!(
        c.title()
            .await
            .unwrap()
            .contains("Example Internet Exchange member portal"),
        "the title names the exchange"
    );
    assert!(page.contains("support@exix.example"), "the footer");
    // A peering LAN.
    goto(&c, &app.url("/staff/peering/lans/new")).await;
    fill(&c, "#name", "Main").await;
    fill(&c, "#vlan_id", "100").await;
    fill(&c, "#ipv4_prefix", "192.0.2.0/24").await;
    click(&c, "main form button[type=submit]").await;
    assert!(text(&c).await.contains("Peering LAN Main saved."));

    // Two members, one opted out of PeeringDB login.
    let page = new_customer(&c, &app, "Example Networks", "examplenet", "64500", true).await;
    assert!(page.contains("Example Networks"), "{page}");
    let page = new_customer(&c, &app, "Private Telecom", "privtel", "64502", false).await;
    assert!(
        page.contains("OAuth disabled"),
        "the opted-out member shows the badge: {page}"
    );
    shot(&c, "02-customer-opted-out").await;
    // Every step done: the checklist is gone.
    goto(&c, &app.url("/")).await;
    assert!(
        c.find(Locator::Css("#first-run")).await.is_err(),
        "the checklist goes once every step is done"
    );
    goto(&c, &app.url("/staff/customers")).await;
    shot(&c, "03-customers").await;
    // Sorted by ASN, highest first: two clicks on the header.
    click(&c, "th a[href='/staff/customers?sort=asn']").await;
    click(&c, "th a[href='/staff/customers?sort=-asn']").await;
    let first = c
        .find(Locator::Css("tbody tr td a"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(first, "Private Telecom", "AS64502 before AS64500");
    assert!(text(&c).await.contains("2 customers"), "the count");
    logout(&c).await;

    // A member signs in with PeeringDB through the simulator's page.
    goto(&c, &app.url("/login")).await;
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
    assert!(
        page.contains("support@exix.example"),
        "the support address next to the refusal: {page}"
    );
    let links = app.with_conn(|conn| {
        let u = ixp_portal::db::users::by_peeringdb_id(conn, 501)
            .unwrap()
            .unwrap();
        ixp_portal::db::affiliations::of_user(conn, u.id).unwrap()
    });
    assert_eq!(links.len(), 1, "linked to Example Networks only");
    shot(&c, "05-member-dashboard").await;

    // The member's admin invites a colleague, then thinks better of
    // revoking the invitation.
    goto(&c, &app.url("/member/users")).await;
    fill(&c, "#email", "colleague@example.net").await;
    fill(&c, "#name", "Col League").await;
    click(&c, "form[action='/member/users'] button[type=submit]").await;
    let page = text(&c).await;
    assert!(page.contains("colleague@example.net"), "{page}");
    assert!(
        page.contains("Administrator"),
        "privileges in words: {page}"
    );
    assert!(!page.contains("Custuser"), "no jargon: {page}");
    shot(&c, "06-member-users").await;
    assert!(
        page.contains("Invitation sent to colleague@example.net"),
        "{page}"
    );
    click(&c, "a[href$='/revoke']").await;
    let page = text(&c).await;
    assert!(
        page.contains("Revoke the invitation to colleague@example.net?"),
        "{page}"
    );
    assert!(page.contains("What will be lost"), "{page}");
    shot(&c, "06b-member-remove-confirm").await;
    click(&c, "main a.button.secondary").await;
    assert!(
        text(&c).await.contains("colleague@example.net"),
        "cancelled"
    );
    goto(&c, &app.url("/member/peering")).await;
    shot(&c, "06c-member-peering").await;
    goto(&c, &app.url("/member/api-keys")).await;
    shot(&c, "06d-member-api-keys").await;
    goto(&c, &app.url("/profile")).await;
    shot(&c, "06e-profile").await;
    logout(&c).await;

    // Staff see the user made by PeeringDB login, and the audit entry.
    password_login(&c, &app, "staff", "staff password 1").await;
    goto(&c, &app.url("/staff/users?oauth=y")).await;
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
    assert_fits(&c).await;
    let page = text(&c).await;
    assert!(page.contains("Created by PeeringDB login"), "{page}");
    assert!(!page.contains("OAuth-PeeringDB"), "no jargon: {page}");
    shot(&c, "08-staff-user").await;
    goto(&c, &app.url("/staff/audit")).await;
    let page = text(&c).await;
    assert!(
        page.contains("opted out"),
        "the skipped opted-out network is in the audit log: {page}"
    );
    shot(&c, "09-audit").await;

    // Peering: a route server, a connection and a live session on the LAN.
    goto(&c, &app.url("/staff/peering/routeservers/new")).await;
    fill(&c, "#name", "rs1").await;
    fill(&c, "#asn", "64999").await;
    fill(&c, "#ipv4_address", "192.0.2.1").await;
    click(&c, "main form button[type=submit]").await;
    assert!(text(&c).await.contains("Route server rs1 saved."));
    goto(&c, &app.url("/staff/peering/connections/new")).await;
    fill(&c, "#ipv4_address", "192.0.2.10").await;
    fill(&c, "#speed_mbps", "10000").await;
    click(&c, "main form button[type=submit]").await;
    assert!(text(&c).await.contains("The connection is saved."));
    let (rs_id, session) = crate::ux::add_session(&app, "examplenet", "rs1", "established");
    shot(&c, "16-staff-peering").await;
    // The route server with a live session cannot be deleted: its
    // confirmation page says what is in the way, and offers no button.
    goto(
        &c,
        &app.url(&format!("/staff/peering/routeservers/{rs_id}/delete")),
    )
    .await;
    let page = text(&c).await;
    assert!(page.contains("This cannot be done yet"), "{page}");
    assert!(
        page.contains("established session of Example Networks"),
        "{page}"
    );
    assert!(
        c.find(Locator::Css("main button.danger")).await.is_err(),
        "no delete button while a session is live"
    );
    shot(&c, "17-routeserver-refused").await;
    // The sessions page: search by ASN, a button named for what it does.
    goto(&c, &app.url("/staff/peering/sessions")).await;
    fill(&c, "#q", "AS64500").await;
    click(
        &c,
        "form[action='/staff/peering/sessions'] button[type=submit]",
    )
    .await;
    let page = text(&c).await;
    assert!(page.contains("1 session match"), "{page}");
    assert!(
        page.contains("Mark down") && page.contains("Delete…"),
        "{page}"
    );
    shot(&c, "18-sessions").await;
    click(
        &c,
        &format!("a[href='/staff/peering/sessions/{session}/delete']"),
    )
    .await;
    shot(&c, "19-session-delete-confirm").await;
    click(&c, "main button.danger").await;
    let page = text(&c).await;
    assert!(page.contains("stays in this list as history"), "{page}");
    assert!(page.contains("deleted"), "{page}");
    // Now the route server may go; the ended session is named, and audited.
    goto(
        &c,
        &app.url(&format!("/staff/peering/routeservers/{rs_id}/delete")),
    )
    .await;
    let page = text(&c).await;
    assert!(page.contains("1 ended session record"), "{page}");
    click(&c, "main button.danger").await;
    assert!(text(&c).await.contains("The route server is deleted."));
    assert_eq!(crate::ux::audit_count(&app, "peering_session.purge"), 1);

    // A LAN with a connection is refused; without, it is deleted through
    // its confirmation page.
    goto(&c, &app.url("/staff/peering")).await;
    click(&c, "a.danger-link[href^='/staff/peering/lans/']").await;
    let page = text(&c).await;
    assert!(
        page.contains("This cannot be done yet")
            && page.contains("the connection of Example Networks"),
        "{page}"
    );
    shot(&c, "20-lan-refused").await;
    goto(&c, &app.url("/staff/peering")).await;
    click(&c, "a.danger-link[href^='/staff/peering/connections/']").await;
    shot(&c, "21-connection-delete-confirm").await;
    click(&c, "main button.danger").await;
    assert!(text(&c).await.contains("The connection is deleted."));
    click(&c, "a.danger-link[href^='/staff/peering/lans/']").await;
    let page = text(&c).await;
    assert!(
        page.contains("Delete peering LAN Main?") && page.contains("What will be lost"),
        "{page}"
    );
    shot(&c, "22-lan-delete-confirm").await;
    click(&c, "main button.danger").await;
    let page = text(&c).await;
    assert!(
        page.contains("The peering LAN is deleted.") && page.contains("No peering LAN yet."),
        "{page}"
    );
    goto(&c, &app.url("/staff/api-keys")).await;
    fill(&c, "#name", "rs config").await;
    click(&c, "form[action='/staff/api-keys'] button[type=submit]").await;
    click(&c, "a[href$='/revoke']").await;
    shot(&c, "23-key-revoke-confirm").await;
    click(&c, "main button.danger").await;
    assert!(text(&c).await.contains("is revoked"));

    // An error page keeps the layout and the navigation.
    goto(&c, &app.url("/staff/customers/999999")).await;
    let page = text(&c).await;
    assert!(page.contains("Page not found"), "{page}");
    assert!(
        c.find(Locator::Css("nav a[href='/staff/customers']"))
            .await
            .is_ok(),
        "the navigation stays"
    );
    shot(&c, "24-not-found").await;
    // GET /logout: one button.
    goto(&c, &app.url("/logout")).await;
    shot(&c, "25-logout").await;
    click(&c, "main form[action='/logout'] button").await;
    assert!(text(&c).await.contains("You have signed out."));

    // Password reset through the mailed link.
    goto(&c, &app.url("/password/forgot")).await;
    fill(&c, "#who", "jane.doe").await;
    click(&c, "form[action='/password/forgot'] button").await;
    assert!(text(&c).await.contains("If an account matches"));
    goto(&c, &reset_link(&app)).await;
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

/// Issue 10 (SPEC §7): enrol TOTP in a real browser (the QR code drawn by
/// the server, the secret read from the page) and sign in with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_two_factor_enrolment_and_sign_in() {
    let Some((_driver, c, _profile)) = browser().await else {
        return;
    };
    let app = spawn_with(Backend::Sqlite, Opts::default())
        .await
        .expect("sqlite app");
    app.create_user("staff", "staff password 1", true);
    password_login(&c, &app, "staff", "staff password 1").await;
    c.goto(&app.url("/profile")).await.unwrap();
    click(&c, "a[href='/profile/2fa']").await;
    click(&c, "form[action='/profile/2fa/start'] button").await;
    let secret = c
        .find(Locator::Css("[data-totp-secret]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        c.find(Locator::Css(".qr svg")).await.is_ok(),
        "the QR code is an inline SVG"
    );
    shot(&c, "13-2fa-enrol").await;
    let now = chrono::Utc::now().timestamp() as u64;
    let code = ixp_portal::auth::totp::code_at(secret.trim(), now).unwrap();
    fill(&c, "#code", &code).await;
    click(&c, "form[action='/profile/2fa/confirm'] button").await;
    let page = text(&c).await;
    assert!(page.contains("Your recovery codes"), "{page}");
    shot(&c, "14-2fa-recovery-codes").await;
    logout(&c).await;
    // Password, then the code of the next step (each step is used once).
    password_login(&c, &app, "staff", "staff password 1").await;
    assert!(
        c.current_url().await.unwrap().path() == "/login/2fa",
        "the code is asked"
    );
    shot(&c, "15-2fa-login").await;
    let code = ixp_portal::auth::totp::code_at(secret.trim(), now + 30).unwrap();
    fill(&c, "#code", &code).await;
    click(&c, "form[action='/login/2fa'] button").await;
    assert!(
        text(&c).await.contains("IXP staff"),
        "signed in with two factors"
    );
    c.close().await.unwrap();
}

/// Issue 13: every page, as staff, as a member's administrator and signed
/// out, on a phone, a laptop and a wide screen: it fits the window, and a
/// screenshot of it is kept (`target/screenshots/page-…-WIDTH.png`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_every_page_on_a_phone() {
    every_page(390, 844).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_every_page_on_a_laptop() {
    every_page(1280, 900).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_every_page_on_a_wide_screen() {
    every_page(1440, 900).await;
}

async fn every_page(width: u32, height: u32) {
    use crate::staff::{PW, add_customer, link};
    use ixp_portal::domain::Privilege;
    let Some((_driver, c, _profile)) = browser_at(width, height).await else {
        return;
    };
    let app = spawn_with(Backend::Sqlite, Opts::default())
        .await
        .expect("sqlite app");
    // An exchange with long names, every kind of record, and history.
    let alpha = add_customer(
        &app,
        "Alpha Networks International Telecommunications Holding B.V.",
        "alpha-networks-international",
        4_200_000_001,
    );
    let bravo = add_customer(&app, "Bravo Transit", "bravo", 64501);
    let w = crate::peering_lan::peering_world(&app, &[&alpha, &bravo]);
    let (_, live) =
        crate::ux::add_session(&app, "alpha-networks-international", "rs1", "established");
    crate::ux::add_session(&app, "alpha-networks-international", "rs2", "pending");
    crate::ux::add_session(&app, "bravo", "rs1", "deleted");
    let staff = app.create_user("staff", PW, true);
    let adam = app.create_user("adam", PW, false);
    let amy = app.create_user("amy.with.a.rather.long.username", PW, false);
    link(&app, adam, &alpha, Privilege::CustAdmin);
    let amy_link = link(&app, amy, &alpha, Privilege::CustUser);
    link(&app, staff, &bravo, Privilege::CustAdmin);
    let (staff_key, _) = app.with_conn(|cn| {
        ixp_portal::admin::api_keys::create(cn, "staff", None, "route-server config builder")
            .unwrap()
    });
    let (member_key, _) = app.with_conn(|cn| {
        ixp_portal::admin::api_keys::create(cn, "adam", Some(&alpha), "autopeer robot").unwrap()
    });
    for i in 0..60 {
        app.with_conn(|cn| {
            ixp_portal::db::audit::record(
                cn,
                "test",
                "test.entry",
                &format!("subject-{i:02}"),
                "a long line of details that a real entry might carry, with addresses 192.0.2.10 and 2001:db8:100::10 and a reason in words",
            )
            .unwrap()
        });
    }
    let pages = |list: &[(&'static str, String)]| list.to_vec();

    password_login(&c, &app, "staff", PW).await;
    let (a, b) = (alpha.id, bravo.id);
    for (name, path) in pages(&[
        ("staff-dashboard", "/".into()),
        ("staff-customers", "/staff/customers".into()),
        (
            "staff-customers-filtered",
            "/staff/customers?type=full&sort=-asn".into(),
        ),
        ("staff-customer", format!("/staff/customers/{a}")),
        ("staff-customer-edit", format!("/staff/customers/{a}/edit")),
        ("staff-customer-new", "/staff/customers/new".into()),
        (
            "staff-customer-delete-refused",
            format!("/staff/customers/{a}/delete"),
        ),
        ("staff-users", "/staff/users".into()),
        ("staff-users-sorted", "/staff/users?sort=-login".into()),
        ("staff-user", format!("/staff/users/{amy}")),
        ("staff-user-edit", format!("/staff/users/{amy}/edit")),
        ("staff-user-new", "/staff/users/new".into()),
        ("staff-user-delete", format!("/staff/users/{amy}/delete")),
        (
            "staff-link-remove",
            format!("/staff/users/{amy}/links/{amy_link}/remove"),
        ),
        (
            "staff-sessions-end",
            format!("/staff/users/{amy}/sessions/end"),
        ),
        ("staff-peering", "/staff/peering".into()),
        (
            "staff-lan-edit",
            format!("/staff/peering/lans/{}", w.lan_id),
        ),
        ("staff-lan-new", "/staff/peering/lans/new".into()),
        (
            "staff-lan-delete-refused",
            format!("/staff/peering/lans/{}/delete", w.lan_id),
        ),
        (
            "staff-rs-edit",
            format!("/staff/peering/routeservers/{}", w.rs1),
        ),
        (
            "staff-rs-delete-refused",
            format!("/staff/peering/routeservers/{}/delete", w.rs1),
        ),
        (
            "staff-connection-edit",
            format!("/staff/peering/connections/{}", w.connections[0]),
        ),
        (
            "staff-connection-new",
            format!("/staff/peering/connections/new?customer={b}"),
        ),
        ("staff-sessions", "/staff/peering/sessions".into()),
        (
            "staff-session-delete",
            format!("/staff/peering/sessions/{live}/delete"),
        ),
        ("staff-api-keys", "/staff/api-keys".into()),
        (
            "staff-api-key-revoke",
            format!("/staff/api-keys/{staff_key}/revoke"),
        ),
        ("staff-audit", "/staff/audit".into()),
        ("staff-member-peering", "/member/peering".into()),
        ("staff-profile", "/profile".into()),
        ("staff-2fa", "/profile/2fa".into()),
        ("staff-not-found", format!("/staff/customers/{}", a + 1000)),
        ("staff-logout", "/logout".into()),
    ]) {
        goto(&c, &app.url(&path)).await;
        shot(&c, &format!("page-{name}")).await;
    }
    logout(&c).await;

    password_login(&c, &app, "adam", PW).await;
    for (name, path) in pages(&[
        ("member-dashboard", "/".into()),
        ("member-peering", "/member/peering".into()),
        ("member-users", "/member/users".into()),
        (
            "member-user-remove",
            format!("/member/users/{amy_link}/remove"),
        ),
        ("member-api-keys", "/member/api-keys".into()),
        (
            "member-api-key-revoke",
            format!("/member/api-keys/{member_key}/revoke"),
        ),
        ("member-profile", "/profile".into()),
        ("member-forbidden", "/staff/users".into()),
    ]) {
        goto(&c, &app.url(&path)).await;
        shot(&c, &format!("page-{name}")).await;
    }
    logout(&c).await;

    for (name, path) in pages(&[
        ("login", "/login".into()),
        ("forgot", "/password/forgot".into()),
        ("anonymous-not-found", "/no/such/page".into()),
        ("anonymous-logout", "/logout".into()),
    ]) {
        goto(&c, &app.url(&path)).await;
        shot(&c, &format!("page-{name}")).await;
    }
    c.close().await.unwrap();
}
